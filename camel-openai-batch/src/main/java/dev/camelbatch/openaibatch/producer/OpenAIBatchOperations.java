package dev.camelbatch.openaibatch.producer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.OpenAIBatchEndpoint;
import dev.camelbatch.openaibatch.OpenAIBatchOperation;
import dev.camelbatch.openaibatch.OpenAIBatchOperationException;
import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchStatus;
import dev.camelbatch.openaibatch.api.OpenAIApiException;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAINotFoundException;
import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.engine.lines.LineReader;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.usage.BatchProgress;
import dev.camelbatch.openaibatch.engine.usage.PriceTable;
import dev.camelbatch.openaibatch.engine.usage.ProgressTracker;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchPrices;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static dev.camelbatch.openaibatch.OpenAIBatchOperationException.Reason;

/**
 * The explicit operations of the producer (every {@link OpenAIBatchOperation} but {@code spool}): drive batches step
 * by step from a route, the way scripts do.
 */
public final class OpenAIBatchOperations {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchOperations.class);

    private final OpenAIBatchEndpoint endpoint;
    private final OpenAIBatchConfiguration conf;
    private final OpenAIBatchRuntime runtime;
    private final ObjectMapper mapper;
    private final PriceTable prices;
    private final String wireEndpoint;
    private final BooleanSupplier running;
    private final SubmitOperation submit;

    public OpenAIBatchOperations(OpenAIBatchEndpoint endpoint, OpenAIBatchRuntime runtime, BooleanSupplier running) {
        this.endpoint = endpoint;
        this.conf = endpoint.getConfiguration();
        this.runtime = runtime;
        this.mapper = runtime.mapper();
        this.prices = OpenAIBatchPrices.resolve(conf, endpoint.getCamelContext());
        this.wireEndpoint = conf.isAzure()
                ? OpenAIBatchClient.azureEndpointValue(conf.getEndpoint(), conf.getAzureApiVersion())
                : conf.getEndpoint();
        this.running = running;
        this.submit = new SubmitOperation(endpoint, runtime, wireEndpoint);
        OpenAIBatchResultsStream.exemptFromStreamCaching(endpoint.getCamelContext());
    }

    /** The operation of an exchange: the header, else the endpoint option. */
    public static OpenAIBatchOperation operation(Exchange exchange, OpenAIBatchConfiguration conf) {
        Object h = exchange.getMessage().getHeader(OpenAIBatchConstants.OPERATION);
        if (h == null) {
            return conf.getOperation() != null ? conf.getOperation() : OpenAIBatchOperation.spool;
        }
        if (h instanceof OpenAIBatchOperation op) {
            return op;
        }
        String v = h.toString().trim();
        for (OpenAIBatchOperation op : OpenAIBatchOperation.values()) {
            if (op.name().equalsIgnoreCase(v)) {
                return op;
            }
        }
        throw new IllegalArgumentException("Unknown operation '" + v + "' in the header "
                                           + OpenAIBatchConstants.OPERATION + "; one of "
                                           + Arrays.toString(OpenAIBatchOperation.values()));
    }

    public void process(OpenAIBatchOperation op, Exchange exchange) throws Exception {
        switch (op) {
            case submit -> submit.submit(exchange);
            case retrieve -> retrieve(exchange);
            case wait -> await(exchange);
            case cancel -> cancel(exchange);
            case list -> list(exchange);
            case results -> results(exchange);
            case deleteFiles -> deleteFiles(exchange);
            case flush -> flush(exchange);
            default -> throw new IllegalStateException("not an explicit operation: " + op);
        }
    }

    private OpenAIBatchClient client() throws Exception {
        return runtime.client(conf, endpoint.getCamelContext());
    }

    // ---------------------------------------------------------------- retrieve, wait, cancel

    private void retrieve(Exchange exchange) throws Exception {
        String id = batchId(exchange, OpenAIBatchOperation.retrieve);
        Batch b = fetch(id, OpenAIBatchOperation.retrieve);
        Message msg = exchange.getMessage();
        msg.setBody(b);
        OpenAIBatchHeaders.batch(b, msg, prices, new ProgressTracker(0).update(b, System.currentTimeMillis()));
    }

    private void await(Exchange exchange) throws Exception {
        OpenAIBatchOperation op = OpenAIBatchOperation.wait;
        String id = batchId(exchange, op);
        long timeout = longHeader(exchange, OpenAIBatchConstants.WAIT_TIMEOUT, conf.getWaitTimeout(), op);
        if (timeout < 0) {
            throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "the wait timeout must be >= 0"
                                                                               + " milliseconds, was " + timeout);
        }
        long first = Math.max(1, conf.getPollInterval());
        long max = Math.max(first, conf.getMaxPollInterval());
        ProgressTracker tracker = new ProgressTracker(Math.max(first, Math.min(60_000, max)));
        long deadline = System.currentTimeMillis() + timeout;
        long interval = first;
        Batch b = fetch(id, op);
        BatchProgress p = tracker.update(b, System.currentTimeMillis());
        String seen = signature(b);
        while (!b.isTerminal()) {
            long remaining = deadline - System.currentTimeMillis();
            if (remaining <= 0) {
                break;
            }
            if (tracker.dueForLog(id, System.currentTimeMillis())) {
                LOG.info("Waiting for batch {}: {}", id, p.describe());
            }
            Thread.sleep(Math.min(interval, remaining));
            if (!running.getAsBoolean()) {
                throw new OpenAIBatchOperationException(op, Reason.CONFLICT, "the producer is stopping; batch " + id
                                                                              + " was " + b.getStatus());
            }
            b = fetch(id, op);
            p = tracker.update(b, System.currentTimeMillis());
            String now = signature(b);
            if (now.equals(seen)) {
                interval = Math.min(max, (long) (interval * 1.5));
            } else {
                interval = first;
                seen = now;
            }
        }
        boolean timedOut = !b.isTerminal();
        if (timedOut) {
            LOG.info("Stopped waiting for batch {} after {} ms: {}", id, timeout, p.describe());
        } else {
            LOG.debug("Batch {} is {}", id, b.getStatus());
        }
        Message msg = exchange.getMessage();
        msg.setBody(b);
        OpenAIBatchHeaders.batch(b, msg, prices, p);
        msg.setHeader(OpenAIBatchConstants.TIMED_OUT, timedOut);
    }

    private static String signature(Batch b) {
        return b.getStatus() + "/" + (b.getRequestCounts() != null
                ? b.getRequestCounts().getCompleted() + "/" + b.getRequestCounts().getFailed() : "");
    }

    private void cancel(Exchange exchange) throws Exception {
        OpenAIBatchOperation op = OpenAIBatchOperation.cancel;
        String id = batchId(exchange, op);
        Batch b;
        try {
            b = client().cancelBatch(id);
        } catch (OpenAINotFoundException e) {
            throw notFound(op, id, e);
        } catch (OpenAIApiException e) {
            if (e.getHttpStatus() == 409 || e.getHttpStatus() == 400) {
                String status = "in a status that cannot be cancelled";
                try {
                    status = client().retrieveBatch(id).getStatus();
                } catch (RuntimeException ignored) {
                    // the API's message says it
                }
                throw new OpenAIBatchOperationException(op, Reason.CONFLICT, "batch " + id + " cannot be cancelled:"
                                                                              + " it is " + status + " ("
                                                                              + e.getMessage() + ")",
                        e);
            }
            throw e;
        }
        Message msg = exchange.getMessage();
        msg.setBody(b);
        OpenAIBatchHeaders.batch(b, msg, prices, null);
    }

    // ---------------------------------------------------------------- list

    private void list(Exchange exchange) throws Exception {
        OpenAIBatchOperation op = OpenAIBatchOperation.list;
        String statusText = exchange.getMessage().getHeader(OpenAIBatchConstants.LIST_STATUS, String.class);
        if (statusText == null) {
            statusText = conf.getListStatus();
        }
        Set<String> statuses = null;
        if (statusText != null && !statusText.isBlank()) {
            statuses = new LinkedHashSet<>();
            for (String s : statusText.split(",")) {
                if (s.isBlank()) {
                    continue;
                }
                BatchStatus bs = BatchStatus.fromValue(s);
                if (bs == null) {
                    throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "unknown batch status '"
                                                                                      + s.trim() + "'; one of "
                                                                                      + Arrays.toString(
                                                                                              BatchStatus.values()));
                }
                statuses.add(bs.value());
            }
        }
        long limit = longHeader(exchange, OpenAIBatchConstants.LIMIT, conf.getLimit(), op);
        if (limit < 0) {
            throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "limit must be >= 0 (0 = no limit), was "
                                                                              + limit);
        }
        int pageSize = conf.getPageSize();
        if (pageSize < 1 || pageSize > 100) {
            throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "pageSize must be between 1 and 100,"
                                                                              + " was " + pageSize);
        }
        String name = metadataName();
        List<Batch> out = new ArrayList<>();
        Iterator<Batch> it = client().iterateBatches(pageSize);
        while (it.hasNext() && (limit == 0 || out.size() < limit)) {
            Batch b = it.next();
            if (!conf.isListAll() && (b.getMetadata() == null
                                      || !name.equals(b.getMetadata().get(BatchEngine.META_NAME)))) {
                continue;
            }
            if (statuses != null && !statuses.contains(b.getStatus())) {
                continue;
            }
            out.add(b);
        }
        Message msg = exchange.getMessage();
        msg.setBody(out);
        msg.setHeader(OpenAIBatchConstants.BATCH_COUNT, out.size());
        msg.setHeader(OpenAIBatchConstants.BATCH_IDS, out.stream().map(Batch::getId).collect(Collectors.toList()));
    }

    /** The endpoint name as recorded in batch metadata (values are limited to 512 characters). */
    private String metadataName() {
        String name = endpoint.getName();
        return name.length() > 512 ? name.substring(0, 512) : name;
    }

    // ---------------------------------------------------------------- results, deleteFiles

    private void results(Exchange exchange) throws Exception {
        OpenAIBatchOperation op = OpenAIBatchOperation.results;
        String id = batchId(exchange, op);
        String which = exchange.getMessage().getHeader(OpenAIBatchConstants.RESULTS_FILE, String.class);
        if (which == null) {
            which = conf.getResultsFile();
        }
        which = which == null ? "output" : which.trim().toLowerCase(Locale.ROOT);
        if (!which.equals("output") && !which.equals("error")) {
            throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "resultsFile must be output or error,"
                                                                              + " was '" + which + "'");
        }
        String as = conf.getResultsAs() == null ? "stream" : conf.getResultsAs().trim().toLowerCase(Locale.ROOT);
        if (!as.equals("stream") && !as.equals("lines")) {
            throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "resultsAs must be stream or lines,"
                                                                              + " was '" + as + "'");
        }
        Batch b = fetch(id, op);
        requireFinished(b, op, "its results are there once it is completed, expired, cancelled or failed; wait"
                               + " for it first (operation wait)");
        Message msg = exchange.getMessage();
        OpenAIBatchHeaders.batch(b, msg, prices, null);
        String fileId = which.equals("output") ? b.getOutputFileId() : b.getErrorFileId();
        if (fileId == null) {
            LOG.debug("Batch {} ({}) has no {} file", id, b.getStatus(), which);
            msg.removeHeader(OpenAIBatchConstants.RESULTS_FILE_ID);
            msg.setBody(as.equals("lines") ? new ArrayList<>() : new ByteArrayInputStream(new byte[0]));
            return;
        }
        msg.setHeader(OpenAIBatchConstants.RESULTS_FILE_ID, fileId);
        InputStream in;
        try {
            in = new OpenAIBatchResultsStream(client().downloadFileContent(fileId), id, fileId);
        } catch (OpenAINotFoundException e) {
            throw new OpenAIBatchOperationException(op, Reason.NOT_FOUND, "the " + which + " file " + fileId
                                                                          + " of batch " + id
                                                                          + " is gone (deleted, or expired)",
                    e);
        }
        if (as.equals("lines")) {
            List<Object> lines = new ArrayList<>();
            try (InputStream s = in) {
                LineReader r = new LineReader(s, 1 << 16, SegmentLimits.HARD_MAX_BYTES);
                byte[] line;
                while ((line = r.next()) != null) {
                    lines.add(mapper.readValue(line, Map.class));
                }
            }
            msg.setBody(lines);
        } else {
            // read as the route consumes it; closed with the exchange at the latest (the HTTP connection goes back)
            exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
                @Override
                public void onDone(Exchange e) {
                    try {
                        in.close();
                    } catch (IOException ignored) {
                        // best effort
                    }
                }
            });
            msg.setBody(in);
        }
    }

    private void deleteFiles(Exchange exchange) throws Exception {
        OpenAIBatchOperation op = OpenAIBatchOperation.deleteFiles;
        String id = batchId(exchange, op);
        Batch b = fetch(id, op);
        for (SegmentInfo s : runtime.store().segments()) {
            if (id.equals(s.getBatchId())) {
                throw new OpenAIBatchOperationException(op, Reason.CONFLICT, "batch " + id + " is tracked by"
                                                                              + " openai-batch:" + endpoint.getName()
                                                                              + " (segment " + s.getId() + ", "
                                                                              + s.getStatus() + "): its consumer"
                                                                              + " deletes the files once every line"
                                                                              + " is delivered");
            }
        }
        requireFinished(b, op, "its files are in use until it ends; cancel it or wait for it first");
        List<String> deleted = new ArrayList<>();
        for (String fileId : Arrays.asList(b.getInputFileId(), b.getOutputFileId(), b.getErrorFileId())) {
            if (fileId == null) {
                continue;
            }
            try {
                client().deleteFile(fileId);
                deleted.add(fileId);
            } catch (OpenAINotFoundException e) {
                LOG.debug("File {} of batch {} was already gone", fileId, id);
            }
        }
        Message msg = exchange.getMessage();
        OpenAIBatchHeaders.batch(b, msg, prices, null);
        msg.setBody(deleted);
    }

    // ---------------------------------------------------------------- flush

    private void flush(Exchange exchange) throws Exception {
        List<String> sealed = runtime.store().sealOpen(s -> true, SealReason.FLUSH);
        if (!sealed.isEmpty()) {
            runtime.wakeUp();
        }
        exchange.getMessage().setBody(sealed);
    }

    // ---------------------------------------------------------------- helpers

    private String batchId(Exchange exchange, OpenAIBatchOperation op) {
        Object h = exchange.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID);
        if (h == null || h.toString().isBlank()) {
            throw new OpenAIBatchOperationException(op, Reason.MISSING_HEADER, "the batch id is missing: set the"
                                                                                + " header "
                                                                                + OpenAIBatchConstants.BATCH_ID);
        }
        if (!(h instanceof CharSequence)) {
            throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "the header "
                                                                              + OpenAIBatchConstants.BATCH_ID
                                                                              + " must be a String, was "
                                                                              + h.getClass().getName());
        }
        String id = h.toString().trim();
        if (!OpenAIBatchClient.isValidId(id)) {
            throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "'" + id + "' is not a batch id"
                                                                              + " (letters, digits, '_' and '-'; header "
                                                                              + OpenAIBatchConstants.BATCH_ID + ")");
        }
        return id;
    }

    private Batch fetch(String id, OpenAIBatchOperation op) throws Exception {
        try {
            return client().retrieveBatch(id);
        } catch (OpenAINotFoundException e) {
            throw notFound(op, id, e);
        }
    }

    private static OpenAIBatchOperationException notFound(OpenAIBatchOperation op, String id, Exception e) {
        return new OpenAIBatchOperationException(op, Reason.NOT_FOUND, "no batch '" + id + "': the API answered 404"
                                                                       + " (unknown id, or not visible to this API"
                                                                       + " key and project)",
                e);
    }

    private static void requireFinished(Batch b, OpenAIBatchOperation op, String advice) {
        if (!b.isTerminal()) {
            String counts = b.getRequestCounts() != null
                    ? " (" + (nz(b.getRequestCounts().getCompleted()) + nz(b.getRequestCounts().getFailed())) + " of "
                      + nz(b.getRequestCounts().getTotal()) + " requests done)"
                    : "";
            throw new OpenAIBatchOperationException(op, Reason.NOT_FINISHED, "batch " + b.getId() + " is not"
                                                                              + " finished yet: it is "
                                                                              + b.getStatus() + counts + "; "
                                                                              + advice);
        }
    }

    private static long longHeader(Exchange exchange, String header, long fallback, OpenAIBatchOperation op) {
        Object v = exchange.getMessage().getHeader(header);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new OpenAIBatchOperationException(op, Reason.INVALID_INPUT, "the header " + header
                                                                              + " must be a number, was '" + v
                                                                              + "'");
        }
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
