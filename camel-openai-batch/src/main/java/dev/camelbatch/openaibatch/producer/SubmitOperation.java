package dev.camelbatch.openaibatch.producer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.OpenAIBatchEndpoint;
import dev.camelbatch.openaibatch.OpenAIBatchOperation;
import dev.camelbatch.openaibatch.OpenAIBatchOperationException;
import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchCreationOutcomeUnknownException;
import dev.camelbatch.openaibatch.api.CreateBatchRequest;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.UploadOutcomeUnknownException;
import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.engine.EngineStats;
import dev.camelbatch.openaibatch.engine.OpenAIProvider;
import dev.camelbatch.openaibatch.engine.SubmissionCalls;
import dev.camelbatch.openaibatch.engine.Submitter;
import dev.camelbatch.openaibatch.engine.io.PrivateFiles;
import dev.camelbatch.openaibatch.engine.lines.CustomIdSet;
import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.lines.LineReader;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.Names;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static dev.camelbatch.openaibatch.OpenAIBatchOperationException.Reason;

/**
 * {@code operation=submit}: the body's requests (a JSONL document or a list) validated, cut into batches by the
 * endpoint's limits, and submitted now. With {@code track=true} (the default) the batches are segments of the store,
 * submitted through the engine's own pipeline, and their lines come out of the consumer of the same name; with
 * {@code track=false} they are only created, and the route follows them with the other operations.
 * <p>
 * A little over 500 lines: the cutting of the body into temporary files by the endpoint's limits sits beside the two
 * submission modes that take its chunks.
 */
final class SubmitOperation {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchOperations.class);

    /**
     * How long a tracked submission keeps the engine off its segments (notBefore) while it uploads and creates them
     * itself; only a crash in the middle lets it run out, and the engine then reconciles and resumes them.
     */
    static final long SUBMIT_LEASE_MILLIS = 3_600_000;
    private static final String META_SUBMISSION = "camel_openai_batch_submission";

    private final OpenAIBatchEndpoint endpoint;
    private final OpenAIBatchConfiguration conf;
    private final OpenAIBatchRuntime runtime;
    private final ObjectMapper mapper;
    private final String wireEndpoint;

    SubmitOperation(OpenAIBatchEndpoint endpoint, OpenAIBatchRuntime runtime, String wireEndpoint) {
        this.endpoint = endpoint;
        this.conf = endpoint.getConfiguration();
        this.runtime = runtime;
        this.mapper = runtime.mapper();
        this.wireEndpoint = wireEndpoint;
    }

    private OpenAIBatchClient client() throws Exception {
        return runtime.client(conf, endpoint.getCamelContext());
    }

    /** Where validated lines go: temporary files (untracked), or the store (tracked). */
    private interface Chunker extends AutoCloseable {
        void add(String model, String customId, byte[] line, long lineNumber) throws IOException;

        @Override
        void close();
    }

    /** A model's lines cut into files by the limits; one file, one batch. */
    private static final class TempChunker implements Chunker {
        record Chunk(String model, Path file, int count) {
        }

        private final SegmentLimits limits;
        private final CustomIdSet ids = new CustomIdSet(1024);
        private final Map<String, Open> open = new LinkedHashMap<>();
        private final List<Chunk> chunks = new ArrayList<>();

        private static final class Open {
            final Path file;
            final OutputStream out;
            int count;
            long bytes;

            Open(Path file) throws IOException {
                this.file = file;
                this.out = new java.io.BufferedOutputStream(PrivateFiles.openEmpty(file), 1 << 16);
            }
        }

        TempChunker(SegmentLimits limits) {
            this.limits = limits;
        }

        @Override
        public void add(String model, String customId, byte[] line, long lineNumber) throws IOException {
            if (!ids.add(customId)) {
                throw new InvalidRequestException("custom_id", lineNumber, "custom_id '" + customId
                                                                           + "' repeats an earlier line");
            }
            Open o = open.get(model);
            if (o != null && limits.wouldOverflow(o.count, o.bytes, 0, line.length, 0)) {
                finish(model, o);
                o = null;
            }
            if (o == null) {
                o = new Open(Files.createTempFile("camel-openai-batch-submit", ".jsonl"));
                open.put(model, o);
            }
            o.out.write(line);
            o.out.write('\n');
            o.count++;
            o.bytes += line.length + 1;
        }

        private void finish(String model, Open o) throws IOException {
            o.out.close();
            chunks.add(new Chunk(model, o.file, o.count));
            open.remove(model);
        }

        List<Chunk> chunks() throws IOException {
            for (Map.Entry<String, Open> e : new ArrayList<>(open.entrySet())) {
                finish(e.getKey(), e.getValue());
            }
            return chunks;
        }

        @Override
        public void close() {
            for (Open o : open.values()) {
                try {
                    o.out.close();
                } catch (IOException ignored) {
                    // deleted below
                }
                deleteQuietly(o.file);
            }
            for (Chunk c : chunks) {
                deleteQuietly(c.file());
            }
        }
    }

    /** Lines spooled into staged segments of the store, committed as segments being submitted. */
    private static final class StoreChunker implements Chunker {
        final BatchStore.DocumentAppender doc;

        StoreChunker(BatchStore.DocumentAppender doc) {
            this.doc = doc;
        }

        @Override
        public void add(String model, String customId, byte[] line, long lineNumber) throws IOException {
            try {
                doc.add(model, new SpoolRecord(customId, line, null, 0));
            } catch (DuplicateCustomIdException e) {
                throw new InvalidRequestException("custom_id", lineNumber, e.getMessage());
            }
        }

        @Override
        public void close() {
            doc.close();
        }
    }

    void submit(Exchange exchange) throws Exception {
        OpenAIBatchOperation op = OpenAIBatchOperation.submit;
        Boolean trackHeader = exchange.getMessage().getHeader(OpenAIBatchConstants.TRACK, Boolean.class);
        boolean track = trackHeader != null ? trackHeader : conf.isTrack();
        String model = exchange.getMessage().getHeader(OpenAIBatchConstants.MODEL, String.class);
        if (model == null) {
            model = conf.getModel();
        }
        SegmentLimits limits = new SegmentLimits(conf.getMaxRequestsPerBatch(), conf.getMaxBatchBytes(), 0, 0);
        Object body = exchange.getMessage().getBody();
        if (body == null) {
            throw new InvalidRequestException("body", "submit needs a body: a JSONL document (String, byte[],"
                                                      + " InputStream, file) or a List of request lines or bodies");
        }
        List<Batch> created;
        int count;
        if (track) {
            try (StoreChunker chunker = new StoreChunker(runtime.store().beginDocument(conf.getEndpoint(), limits))) {
                count = feed(exchange, body, model, limits, chunker);
                long leaseUntil = System.currentTimeMillis() + SUBMIT_LEASE_MILLIS;
                List<SegmentInfo> segments;
                try {
                    segments = chunker.doc.commitPrepared(s -> {
                        s.sealedBy(SealReason.SUBMIT);
                        s.setNotBefore(leaseUntil);
                        // recorded as started, nothing sent yet: submitTracked sends it without looking first
                        Submitter.prepareUpload(endpoint.getName(), s);
                    });
                } catch (UnsupportedOperationException e) {
                    throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "the store of openai-batch:"
                                                                                      + endpoint.getName()
                                                                                      + " cannot take submitted"
                                                                                      + " batches (" + e.getMessage()
                                                                                      + "); use track=false",
                            e);
                }
                created = submitTracked(segments, op);
            }
            runtime.wakeUp();
        } else {
            try (TempChunker chunker = new TempChunker(limits)) {
                count = feed(exchange, body, model, limits, chunker);
                created = submitUntracked(chunker.chunks(), op);
            }
        }
        Message msg = exchange.getMessage();
        msg.setBody(created.size() == 1 ? created.get(0) : created);
        msg.setHeader(OpenAIBatchConstants.BATCH_ID, created.get(0).getId());
        msg.setHeader(OpenAIBatchConstants.BATCH_STATUS, created.get(0).getStatus());
        msg.setHeader(OpenAIBatchConstants.BATCH_IDS, created.stream().map(Batch::getId).collect(Collectors.toList()));
        msg.setHeader(OpenAIBatchConstants.BATCH_COUNT, created.size());
        msg.setHeader(OpenAIBatchConstants.REQUEST_COUNT, count);
        LOG.info("openai-batch:{} submitted {} requests as {} batch(es) {}{}", endpoint.getName(), count,
                created.size(), created.stream().map(Batch::getId).collect(Collectors.toList()),
                track ? ", tracked by the engine" : "");
    }

    /** Validates every request of the body into the chunker; returns how many. */
    private int feed(Exchange exchange, Object body, String model, SegmentLimits limits, Chunker chunker)
            throws Exception {
        int count = 0;
        if (body instanceof Collection<?> items) {
            long n = 0;
            for (Object item : items) {
                n++;
                JsonNode tree;
                try {
                    if (item instanceof CharSequence cs) {
                        tree = mapper.readTree(cs.toString());
                    } else if (item instanceof byte[] bytes) {
                        tree = mapper.readTree(bytes);
                    } else if (item instanceof JsonNode j) {
                        tree = j.deepCopy();
                    } else if (item == null) {
                        throw new InvalidRequestException("line", n, "is null");
                    } else {
                        tree = mapper.valueToTree(item);
                    }
                } catch (JsonProcessingException e) {
                    throw new InvalidRequestException("line", n, "not valid JSON: " + e.getOriginalMessage());
                } catch (IllegalArgumentException e) {
                    if (e instanceof InvalidRequestException ire) {
                        throw ire;
                    }
                    throw new InvalidRequestException("line", n, "cannot be turned into JSON: " + e.getMessage());
                }
                accept(tree, n, model, limits, chunker);
                count++;
            }
        } else {
            InputStream in;
            if (body instanceof CharSequence cs) {
                in = new ByteArrayInputStream(cs.toString().getBytes(StandardCharsets.UTF_8));
            } else if (RequestConverter.isDocument(body)) {
                in = RequestConverter.openDocument(exchange, body);
            } else {
                throw new InvalidRequestException("body", "submit needs a JSONL document (String, byte[], InputStream,"
                                                          + " file) or a List of request lines or bodies; was "
                                                          + body.getClass().getName());
            }
            try (InputStream s = in) {
                LineReader reader = new LineReader(s, 1 << 16, limits.maxBytes());
                while (true) {
                    byte[] raw;
                    try {
                        raw = reader.next();
                    } catch (LineReader.LineTooLongException e) {
                        throw new InvalidRequestException("line", e.getLineNumber(), "longer than the batch byte"
                                                                                     + " limit of "
                                                                                     + limits.maxBytes() + " bytes");
                    }
                    if (raw == null) {
                        break;
                    }
                    long n = reader.lineNumber();
                    JsonNode tree;
                    try {
                        tree = mapper.readTree(raw);
                    } catch (JsonProcessingException e) {
                        throw new InvalidRequestException("line", n, "not valid JSON: " + e.getOriginalMessage());
                    }
                    accept(tree, n, model, limits, chunker);
                    count++;
                }
            }
        }
        if (count == 0) {
            throw new InvalidRequestException("body", "there is no request to submit");
        }
        return count;
    }

    /**
     * One request: a request line is taken as it is (custom_id, method and url are the caller's; only a missing
     * model is filled in from the endpoint), a bare body gets a custom_id and the endpoint. Both are validated.
     */
    private void accept(JsonNode tree, long n, String model, SegmentLimits limits, Chunker chunker)
            throws IOException {
        if (tree == null || !tree.isObject()) {
            throw new InvalidRequestException("line", n, "a request must be a JSON object, was "
                                                         + (tree == null ? "empty" : tree.getNodeType()));
        }
        ObjectNode line = (ObjectNode) tree;
        if (line.has("body") && (line.has("custom_id") || line.has("url") || line.has("method"))) {
            JsonNode b = line.get("body");
            if (b != null && b.isObject() && model != null && !b.hasNonNull("model")) {
                ((ObjectNode) b).put("model", model);
            }
            JsonNode url = line.get("url");
            if (url != null && !wireEndpoint.equals(conf.getEndpoint()) && conf.getEndpoint().equals(url.asText())) {
                line.put("url", wireEndpoint);
            }
        } else {
            ObjectNode body = line;
            if (model != null && !body.hasNonNull("model")) {
                body.put("model", model);
            }
            line = mapper.createObjectNode();
            line.put("custom_id", RequestConverter.newId());
            line.put("method", "POST");
            line.put("url", wireEndpoint);
            line.set("body", body);
        }
        byte[] bytes;
        try {
            bytes = RequestLines.validateAndSerialize(mapper, line, wireEndpoint, limits.maxBytes());
        } catch (InvalidRequestException e) {
            throw e.atLine(n);
        }
        chunker.add(line.get("body").get("model").asText(), line.get("custom_id").asText(), bytes, n);
    }

    private List<Batch> submitUntracked(List<TempChunker.Chunk> chunks, OpenAIBatchOperation op) throws Exception {
        List<Batch> created = new ArrayList<>();
        String submission = UUID.randomUUID().toString();
        SubmissionCalls calls = calls();
        for (int i = 0; i < chunks.size(); i++) {
            TempChunker.Chunk c = chunks.get(i);
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put(BatchEngine.META_NAME, Names.metadataValue(endpoint.getName()));
            labels.put(META_SUBMISSION, submission + "-" + (i + 1));
            String filename = "camel-openai-batch_" + Names.safe(endpoint.getName()) + "_submit_" + submission + "_"
                              + (i + 1) + ".jsonl";
            long started = System.currentTimeMillis();
            String fileId = null;
            try {
                fileId = calls.upload(c.file(), filename, null, started, false);
                created.add(calls.create(CreateBatchRequest.builder().inputFileId(fileId)
                        .endpoint(conf.getEndpoint()).metadata(labels).build(), labels, started, false));
            } catch (Exception e) {
                if (e instanceof BatchCreationOutcomeUnknownException) {
                    // the batch may exist and need its input file: both stay
                    throw outcomeUnknown(op, created, chunks.size(), e, null);
                }
                if (fileId != null) {
                    calls.deleteQuietly(fileId);
                } else if (e instanceof UploadOutcomeUnknownException) {
                    // an upload that may have been stored: found by its name and deleted
                    calls.deleteQuietly(calls.findUpload(filename, started));
                }
                throw submitFailed(op, created, chunks.size(), e);
            }
        }
        return created;
    }

    /**
     * Submits the segments of a tracked submission through the engine's own pipeline. When one fails before its
     * create call could have been sent, it and the ones after it are dropped (remote input file included); once a
     * create may have been sent (or its batch could not be recorded), the segment is left to the engine, which
     * reconciles it and submits it only if no batch exists, and the outcome is reported as unknown.
     */
    private List<Batch> submitTracked(List<SegmentInfo> segments, OpenAIBatchOperation op) throws Exception {
        List<Batch> created = new ArrayList<>();
        BatchStore store = runtime.store();
        SubmissionCalls calls = calls();
        Submitter submitter = new Submitter(store, new OpenAIProvider(client(), endpoint.getName(), new EngineStats(),
                CreateBatchRequest.DEFAULT_COMPLETION_WINDOW, 0, OpenAIBatchClient.MAX_LIST_PAGES), null);
        for (int i = 0; i < segments.size(); i++) {
            SegmentInfo s = segments.get(i);
            try {
                created.add(submitter.submit(s, true));
            } catch (Exception e) {
                boolean createMayHaveBeenSent = s.getStatus() == SegmentStatus.CREATING
                                                || s.getStatus() == SegmentStatus.SUBMITTED;
                if (createMayHaveBeenSent) {
                    handOver(s);
                } else {
                    abandon(s, e, calls, s.getStatus() == SegmentStatus.UPLOADING);
                }
                for (int j = i + 1; j < segments.size(); j++) {
                    abandon(segments.get(j), e, calls, false);
                }
                if (createMayHaveBeenSent) {
                    throw outcomeUnknown(op, created, segments.size(), e, s);
                }
                throw submitFailed(op, created, segments.size(), e);
            }
        }
        return created;
    }

    private SubmissionCalls calls() throws Exception {
        return new SubmissionCalls(client(), endpoint.getName(), new EngineStats());
    }

    /** Leaves a segment whose create may have been sent to the engine, at once (it reconciles before acting). */
    private void handOver(SegmentInfo s) {
        try {
            s.setNotBefore(null);
            runtime.store().update(s);
        } catch (IOException | RuntimeException e) {
            LOG.warn("openai-batch:{}: cannot hand segment {} over to the engine now ({}); it does so when the"
                     + " submission's hold on it ends", endpoint.getName(), s.getId(), e.toString());
        }
        runtime.wakeUp();
    }

    /**
     * Drops a tracked segment whose submission failed before its create call could be sent (its remote input file
     * too, looked up by name when the upload's outcome is unknown): nothing of it stays.
     */
    private void abandon(SegmentInfo s, Exception cause, SubmissionCalls calls, boolean uploadMayHaveBeenSent) {
        if (s.getInputFileId() != null) {
            calls.deleteQuietly(s.getInputFileId());
        } else if (uploadMayHaveBeenSent && s.getUploadFilename() != null) {
            try {
                long started = s.getUploadStartedAt() != null ? s.getUploadStartedAt() : s.getCreatedAt();
                calls.deleteQuietly(calls.findUpload(s.getUploadFilename(), started));
            } catch (RuntimeException e) {
                LOG.warn("openai-batch:{}: cannot look for the upload of segment {}: {}", endpoint.getName(),
                        s.getId(), e.toString());
            }
        }
        try {
            s.setLastError("submit failed: " + cause.getMessage());
            s.setNotBefore(null);
            runtime.store().complete(s);
        } catch (IOException | RuntimeException e) {
            LOG.warn("openai-batch:{}: cannot drop segment {} after a failed submit: {}", endpoint.getName(),
                    s.getId(), e.toString());
        }
    }

    private OpenAIBatchOperationException outcomeUnknown(OpenAIBatchOperation op, List<Batch> created, int planned,
            Exception e, SegmentInfo handedOver) {
        List<String> ids = created.stream().map(Batch::getId).collect(Collectors.toList());
        String what = handedOver != null
                ? "the batch of segment " + handedOver.getId() + " may have been created: the engine reconciles it"
                  + " and submits it only if it does not exist; its results come to the consumer"
                : "a batch may have been created (look for metadata " + META_SUBMISSION + ")";
        return new OpenAIBatchOperationException(op, Reason.OUTCOME_UNKNOWN, ids.size() + " of " + planned
                + " batches were created " + ids + "; then the outcome of a create was unknown: " + what + ": "
                + e.getMessage(), e, ids);
    }

    private OpenAIBatchOperationException submitFailed(OpenAIBatchOperation op, List<Batch> created, int planned,
            Exception e) {
        List<String> ids = created.stream().map(Batch::getId).collect(Collectors.toList());
        if (created.isEmpty()) {
            return new OpenAIBatchOperationException(op, Reason.SUBMIT_FAILED, "no batch was created (" + planned
                                                                               + " planned): " + e.getMessage(),
                    e);
        }
        return new OpenAIBatchOperationException(op, Reason.PARTIALLY_SUBMITTED, created.size() + " of " + planned
                                                                                 + " batches were created " + ids
                                                                                 + " before a failure; the requests"
                                                                                 + " of the others were not"
                                                                                 + " submitted: " + e.getMessage(),
                e, ids);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temporary file
        }
    }
}
