package dev.camelbatch.openaibatch;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.engine.CustomIdSet;
import dev.camelbatch.openaibatch.engine.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.LineReader;
import dev.camelbatch.openaibatch.engine.SegmentLimits;
import dev.camelbatch.openaibatch.engine.SpoolRecord;
import dev.camelbatch.openaibatch.engine.TokenEstimator;
import dev.camelbatch.openaibatch.engine.DuplicateCustomIdException;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.support.DefaultProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spools one request per exchange (or every line of a JSONL document) into the store; returns once the requests are
 * durable per the sync policy.
 */
public class OpenAIBatchProducer extends DefaultProducer {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchProducer.class);
    private static final int DOCUMENT_CHUNK = 2000;

    private final OpenAIBatchEndpoint endpoint;
    private OpenAIBatchRuntime runtime;
    private RequestConverter converter;
    private SegmentLimits limits;

    public OpenAIBatchProducer(OpenAIBatchEndpoint endpoint) {
        super(endpoint);
        this.endpoint = endpoint;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        OpenAIBatchConfiguration conf = endpoint.getConfiguration();
        limits = new SegmentLimits(conf.getMaxRequestsPerBatch(), conf.getMaxBatchBytes(), conf.getMaxBatchTokens(),
                conf.getBatchTimeout());
        TokenEstimator estimator = conf.getMaxBatchTokens() > 0 || conf.getMaxEnqueuedTokens() > 0
                ? new TokenEstimator(conf.getTokenEncoding()) : null;
        runtime = endpoint.acquireRuntime();
        converter = new RequestConverter(conf, runtime.mapper(), estimator);
    }

    @Override
    protected void doStop() throws Exception {
        if (runtime != null) {
            runtime.release();
            runtime = null;
        }
        super.doStop();
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        OpenAIBatchConfiguration conf = endpoint.getConfiguration();
        String model = exchange.getMessage().getHeader(OpenAIBatchConstants.MODEL, String.class);
        if (model == null) {
            model = conf.getModel();
        }
        Object customIdHeader = exchange.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID);
        if (customIdHeader != null && !(customIdHeader instanceof CharSequence)) {
            throw new InvalidRequestException("header." + OpenAIBatchConstants.CUSTOM_ID, "header "
                                              + OpenAIBatchConstants.CUSTOM_ID + " must be a String, was "
                                              + customIdHeader.getClass().getName());
        }
        String customId = customIdHeader != null ? customIdHeader.toString() : null;
        if (customId != null && customId.isEmpty()) {
            throw new InvalidRequestException("header." + OpenAIBatchConstants.CUSTOM_ID,
                    "header " + OpenAIBatchConstants.CUSTOM_ID + " is empty");
        }
        byte[] carried = converter.carriedHeaders(exchange);
        Object body = exchange.getMessage().getBody();
        boolean document = RequestConverter.isDocument(body);
        List<String> sealed;
        int count;
        if (document) {
            DocumentResult r = spoolDocument(exchange, body, model, carried);
            sealed = r.sealed;
            count = r.count;
        } else {
            RequestConverter.Converted c = converter.single(exchange, model, customId, carried);
            sealed = runtime.store().append(conf.getEndpoint(), c.model(), List.of(c.record()), limits);
            count = 1;
            exchange.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, c.record().customId());
        }
        exchange.getMessage().setHeader(OpenAIBatchConstants.REQUEST_COUNT, count);
        boolean flush = exchange.getMessage().getHeader(OpenAIBatchConstants.FLUSH, false, Boolean.class)
                        || (conf.isFlushOnSplitComplete()
                            && Boolean.TRUE.equals(exchange.getProperty(ExchangePropertyKey.SPLIT_COMPLETE)))
                        || (document && conf.isFlushOnDocumentEnd());
        if (flush) {
            sealed = new ArrayList<>(sealed);
            sealed.addAll(runtime.store().sealOpen(s -> true, "flush"));
        }
        if (!sealed.isEmpty()) {
            runtime.wakeUp();
        }
    }

    private record DocumentResult(int count, List<String> sealed) {
    }

    /**
     * Validates every line of a JSONL document first (into a staging file, streaming), then spools them: one bad
     * line refuses the whole document with its line number and nothing of it is stored.
     */
    private DocumentResult spoolDocument(Exchange exchange, Object body, String model, byte[] carried)
            throws Exception {
        Path staging = Files.createTempFile("openai-batch-doc-", ".stage");
        try {
            int count = 0;
            CustomIdSet seen = new CustomIdSet(1024);
            try (InputStream in = RequestConverter.openDocument(exchange, body);
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(staging),
                         1 << 16))) {
                LineReader reader = new LineReader(in, 1 << 16, limits.maxBytes());
                byte[] raw;
                while (true) {
                    try {
                        raw = reader.next();
                    } catch (LineReader.LineTooLongException e) {
                        throw new InvalidRequestException("line", e.getLineNumber(), "longer than the batch byte limit"
                                                                                     + " of " + limits.maxBytes()
                                                                                     + " bytes");
                    }
                    if (raw == null) {
                        break;
                    }
                    long lineNo = reader.lineNumber();
                    RequestConverter.Converted c = converter.documentLine(raw, lineNo, model, carried);
                    String id = c.record().customId();
                    if (!seen.add(id)) {
                        throw new InvalidRequestException("custom_id", lineNo, "custom_id '" + id
                                                                             + "' repeats an earlier line of the"
                                                                             + " document");
                    }
                    if (runtime.store().containsCustomId(id)) {
                        throw new InvalidRequestException("custom_id", lineNo, new DuplicateCustomIdException(
                                runtime.store().name(), id, null).getMessage());
                    }
                    if (++count > 0 && count % 1_000_000 == 0) {
                        LOG.debug("Validated {} lines of a document", count);
                    }
                    writeStaged(out, c);
                }
            }
            if (count == 0) {
                throw new InvalidRequestException("body", "the JSONL document has no request lines");
            }
            List<String> sealed = new ArrayList<>();
            String endpointPath = endpoint.getConfiguration().getEndpoint();
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(staging),
                    1 << 16))) {
                Map<String, List<SpoolRecord>> chunk = new HashMap<>();
                int inChunk = 0;
                while (true) {
                    String m;
                    try {
                        m = in.readUTF();
                    } catch (EOFException e) {
                        break;
                    }
                    String id = in.readUTF();
                    int tokens = in.readInt();
                    byte[] line = new byte[in.readInt()];
                    in.readFully(line);
                    chunk.computeIfAbsent(m, k -> new ArrayList<>()).add(new SpoolRecord(id, line, carried, tokens));
                    if (++inChunk >= DOCUMENT_CHUNK) {
                        for (Map.Entry<String, List<SpoolRecord>> e : chunk.entrySet()) {
                            sealed.addAll(runtime.store().append(endpointPath, e.getKey(), e.getValue(), limits));
                        }
                        chunk.clear();
                        inChunk = 0;
                    }
                }
                for (Map.Entry<String, List<SpoolRecord>> e : chunk.entrySet()) {
                    sealed.addAll(runtime.store().append(endpointPath, e.getKey(), e.getValue(), limits));
                }
            }
            return new DocumentResult(count, sealed);
        } finally {
            Files.deleteIfExists(staging);
        }
    }

    private static void writeStaged(DataOutputStream out, RequestConverter.Converted c) throws IOException {
        out.writeUTF(c.model());
        out.writeUTF(c.record().customId());
        out.writeInt(c.record().tokens());
        out.writeInt(c.record().line().length);
        out.write(c.record().line());
    }
}
