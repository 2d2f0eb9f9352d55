package dev.camelbatch.openaibatch.simulator;

import java.io.IOException;
import java.nio.file.Path;
import java.text.NumberFormat;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates batches and drives their lifecycle on a scheduler. Thread-safe.
 * <p>
 * Long because a batch's whole life is here, in the order the API documents it (create and its validation, the
 * steps that execute requests, finalizing, cancel, expiry, the output and error files): one place to read when the
 * simulator's behaviour is in question.
 */
final class BatchRunner {

    private static final Logger LOG = LoggerFactory.getLogger(BatchRunner.class);

    static final Set<String> ENDPOINTS = Set.of("/v1/responses", "/v1/chat/completions", "/v1/embeddings",
            "/v1/completions", "/v1/moderations");

    private final SimulatorConfig cfg;
    private final FileStore files;
    private final StatsRecorder stats;
    private final ExecutionLog executions;
    private final ScheduledExecutorService scheduler;
    private final Map<String, BatchState> batches = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    private final Object admission = new Object();
    private final Map<String, Long> enqueuedByModel = new HashMap<>(); // guarded by admission

    BatchRunner(SimulatorConfig cfg, FileStore files, StatsRecorder stats, ExecutionLog executions,
            ScheduledExecutorService scheduler) {
        this.cfg = cfg;
        this.files = files;
        this.stats = stats;
        this.executions = executions;
        this.scheduler = scheduler;
    }

    // ------------------------------------------------------------------ API operations

    /** POST /batches. */
    ObjectNode create(JsonNode req) {
        if (req == null || !req.isObject()) {
            throw ApiException.badRequest("The request body must be a JSON object.", null, null);
        }
        String inputFileId = requiredString(req, "input_file_id");
        String endpoint = requiredString(req, "endpoint");
        String window = requiredString(req, "completion_window");
        String canonical = canonicalEndpoint(endpoint);
        if (canonical == null) {
            throw ApiException.badRequest("Invalid value for 'endpoint': '" + endpoint + "'. Supported values are: "
                    + "'/v1/responses', '/v1/chat/completions', '/v1/embeddings', '/v1/completions' and '/v1/moderations'.",
                    "endpoint", "invalid_value");
        }
        if (!"24h".equals(window)) {
            throw ApiException.badRequest("Invalid value for 'completion_window': '" + window
                    + "'. Supported values are: '24h'.", "completion_window", "invalid_value");
        }
        Map<String, String> metadata = metadata(req.get("metadata"));
        Long outputTtl = expiresAfter(req.get("output_expires_after"), "output_expires_after");
        StoredFile input = files.get(inputFileId);
        if (input == null) {
            throw ApiException.notFound("No such File object: " + inputFileId, "input_file_id");
        }
        if (!"batch".equals(input.purpose())) {
            throw ApiException.badRequest("The input file " + inputFileId + " must have purpose 'batch', but has '"
                    + input.purpose() + "'.", "input_file_id", "invalid_value");
        }
        BatchState b = new BatchState(Ids.batch(), seq.incrementAndGet(), endpoint, inputFileId, window, metadata,
                outputTtl, Ids.nowSeconds(cfg.clock()));
        b.lock.lock();
        try {
            b.publish();
            batches.put(b.id, b);
            stats.batchCreated(metadata);
            long delay = Math.max(1, cfg.stepDelay().toNanos());
            b.future = scheduler.scheduleWithFixedDelay(() -> tick(b), delay, delay, TimeUnit.NANOSECONDS);
            LOG.debug("batch {} created for {} on {}", b.id, inputFileId, endpoint);
            return b.snapshot;
        } finally {
            b.lock.unlock();
        }
    }

    ObjectNode get(String id) {
        return require(id).snapshot;
    }

    /** GET /batches: newest first. */
    ObjectNode list(String after, int limit) {
        List<BatchState> all = new ArrayList<>(batches.values());
        all.sort(Comparator.comparingLong((BatchState b) -> b.seq).reversed());
        int from = 0;
        if (after != null) {
            BatchState cursor = batches.get(after);
            from = all.size();
            if (cursor != null) {
                for (int i = 0; i < all.size(); i++) {
                    if (all.get(i).seq < cursor.seq) {
                        from = i;
                        break;
                    }
                }
            }
        }
        int to = (int) Math.min(all.size(), (long) from + limit);
        List<BatchState> page = all.subList(Math.min(from, to), to);
        ObjectNode out = Json.object();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        page.forEach(b -> data.add(b.snapshot));
        Json.putString(out, "first_id", page.isEmpty() ? null : page.get(0).id);
        Json.putString(out, "last_id", page.isEmpty() ? null : page.get(page.size() - 1).id);
        out.put("has_more", to < all.size());
        return out;
    }

    /** POST /batches/{id}/cancel, and {@link BatchSimulator#cancelBatch}. */
    ObjectNode cancel(String id) {
        BatchState b = require(id);
        b.lock.lock();
        try {
            switch (b.status) {
                case BatchState.VALIDATING, BatchState.IN_PROGRESS, BatchState.FINALIZING -> {
                    b.status = BatchState.CANCELLING;
                    b.cancellingAt = now();
                    b.publish();
                    LOG.debug("batch {} cancelling", id);
                }
                case BatchState.CANCELLING -> {
                    // idempotent while the cancellation is under way
                }
                default -> throw new ApiException(409, "Cannot cancel a batch with status '" + b.status + "'.",
                        "invalid_request_error", null, null);
            }
            return b.snapshot;
        } finally {
            b.lock.unlock();
        }
    }

    /** Forced expiry ({@link BatchSimulator#expireBatch}). */
    void expire(String id) {
        BatchState b = require(id);
        b.lock.lock();
        try {
            if (b.terminal()) {
                throw new IllegalStateException("batch " + id + " is already " + b.status);
            }
            finish(b, BatchState.EXPIRED);
            b.publish();
        } catch (IOException e) {
            failInternally(b, e);
        } finally {
            b.lock.unlock();
        }
    }

    void setStuck(String id, boolean stuck) {
        BatchState b = require(id);
        b.lock.lock();
        try {
            b.stuck = stuck;
        } finally {
            b.lock.unlock();
        }
    }

    Map<String, Long> statusCounts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String s : BatchState.ALL_STATUSES) {
            counts.put(s, 0L);
        }
        for (BatchState b : batches.values()) {
            counts.merge(b.snapshot.path("status").asText(), 1L, Long::sum);
        }
        return counts;
    }

    List<String> ids() {
        List<BatchState> all = new ArrayList<>(batches.values());
        all.sort(Comparator.comparingLong(b -> b.seq));
        List<String> ids = new ArrayList<>();
        all.forEach(b -> ids.add(b.id));
        return ids;
    }

    /** Stops all batches and forgets them. */
    void reset() {
        for (Iterator<BatchState> it = batches.values().iterator(); it.hasNext();) {
            BatchState b = it.next();
            b.lock.lock();
            try {
                b.removed = true;
                if (b.future != null) {
                    b.future.cancel(false);
                }
                releaseResources(b);
            } finally {
                b.lock.unlock();
            }
            it.remove();
        }
        synchronized (admission) {
            enqueuedByModel.clear();
        }
    }

    BatchState require(String id) {
        BatchState b = id == null ? null : batches.get(id);
        if (b == null) {
            throw ApiException.notFound("No batch found with id '" + id + "'.", "batch_id");
        }
        return b;
    }

    boolean exists(String id) {
        return batches.containsKey(id);
    }

    // ------------------------------------------------------------------ lifecycle

    /** The scheduled step. */
    void tick(BatchState b) {
        if (!b.lock.tryLock()) {
            return; // someone (cancel/expire/step) holds it: try again at the next step
        }
        try {
            advance(b, false);
        } finally {
            b.lock.unlock();
        }
    }

    /** One step now, also for a stuck batch ({@link BatchSimulator#step}); false if the batch had already ended. */
    boolean step(String id) {
        BatchState b = require(id);
        b.lock.lock();
        try {
            if (b.terminal()) {
                return false;
            }
            advance(b, true);
            return true;
        } finally {
            b.lock.unlock();
        }
    }

    /** Advances the batch one lifecycle step; call with the lock held. */
    private void advance(BatchState b, boolean evenIfStuck) {
        try {
            if (b.removed) {
                return;
            }
            if (b.terminal()) {
                b.future.cancel(false);
                return;
            }
            if (b.stuck && !evenIfStuck) {
                return;
            }
            switch (b.status) {
                case BatchState.VALIDATING -> validate(b);
                case BatchState.IN_PROGRESS -> {
                    if ((cfg.expireAfterSteps() >= 0 && b.inProgressSteps >= cfg.expireAfterSteps())
                            || now() >= b.expiresAt) {
                        finish(b, BatchState.EXPIRED);
                    } else {
                        processChunk(b);
                    }
                }
                case BatchState.FINALIZING -> finish(b, BatchState.COMPLETED);
                case BatchState.CANCELLING -> finish(b, BatchState.CANCELLED);
                default -> {
                    // terminal states were handled above
                }
            }
            b.publish();
            if (b.terminal()) {
                b.future.cancel(false);
            }
        } catch (Exception e) {
            failInternally(b, e);
        }
    }

    private void validate(BatchState b) throws IOException {
        StoredFile input = files.get(b.inputFileId);
        if (input == null) {
            fail(b, List.of(InputValidator.error("invalid_file", "The input file " + b.inputFileId
                    + " was deleted before the batch could be validated.", "input_file_id", null)));
            return;
        }
        if (input.bytes() > cfg.maxBatchFileBytes()) {
            fail(b, List.of(InputValidator.error("file_too_large", "The input file is " + input.bytes()
                    + " bytes; the maximum size of a batch input file is " + cfg.maxBatchFileBytes() + " bytes ("
                    + (cfg.maxBatchFileBytes() / (1024 * 1024)) + " MB).", null, null)));
            return;
        }
        InputValidator.Result r = InputValidator.validate(input.path(), b.endpoint, cfg.azureMode(),
                cfg.maxRequestsPerBatch());
        b.model = r.model;
        if (!r.ok()) {
            fail(b, r.errors);
            return;
        }
        synchronized (admission) {
            Long limit = cfg.enqueuedTokenLimits().get(r.model);
            long enqueued = enqueuedByModel.getOrDefault(r.model, 0L);
            if (limit != null && enqueued + r.estimatedTokens > limit) {
                fail(b, List.of(InputValidator.error("token_limit_exceeded", "Enqueued token limit reached for "
                        + r.model + " in organization org-simulator. Limit: "
                        + NumberFormat.getIntegerInstance(Locale.US).format(limit)
                        + " enqueued tokens. Please try again once some in_progress batches have been completed.",
                        null, null)));
                LOG.debug("batch {} rejected: {} + {} tokens > {} for {}", b.id, enqueued, r.estimatedTokens, limit,
                        r.model);
                return;
            }
            enqueuedByModel.put(r.model, enqueued + r.estimatedTokens);
            b.enqueuedTokens = r.estimatedTokens;
            b.admitted = true;
        }
        b.total = r.requests;
        b.status = BatchState.IN_PROGRESS;
        b.inProgressAt = now();
        LOG.debug("batch {} in_progress: {} requests, ~{} tokens", b.id, b.total, r.estimatedTokens);
    }

    private void fail(BatchState b, List<ObjectNode> errors) {
        ArrayNode data = Json.array();
        errors.forEach(data::add);
        b.errors = data;
        b.status = BatchState.FAILED;
        b.failedAt = now();
        b.usageReady = true;
        releaseResources(b);
        LOG.debug("batch {} failed validation: {}", b.id, errors.get(0).path("code").asText());
    }

    private void processChunk(BatchState b) throws IOException {
        openProcessing(b);
        int n = Math.min(cfg.linesPerStep(), b.total - b.processed);
        String endpoint = canonicalEndpoint(b.endpoint);
        for (int i = 0; i < n; i++) {
            String text = b.reader.next();
            if (text == null) {
                b.total = b.processed; // the file changed under us; should not happen
                break;
            }
            MockModel.Outcome o = MockModel.execute(endpoint, Json.MAPPER.readTree(text), now());
            executions.record(b.id, o);
            if (o.success()) {
                b.outputSpool.append(o.line());
                b.completed++;
                b.inputTokens += o.promptTokens();
                b.outputTokens += o.completionTokens();
            } else {
                b.errorSpool.append(o.line());
                b.failed++;
            }
            b.processed++;
        }
        b.inProgressSteps++;
        if (b.processed >= b.total) {
            b.status = BatchState.FINALIZING;
            b.finalizingAt = now();
        }
    }

    private void openProcessing(BatchState b) throws IOException {
        if (b.reader == null) {
            StoredFile input = files.get(b.inputFileId);
            Path path = input != null ? input.path() : null;
            if (path == null) {
                throw new IOException("input file " + b.inputFileId + " vanished");
            }
            b.reader = new JsonlReader(path, InputValidator.MAX_LINE_BYTES);
            b.outputSpool = new LineSpool(files.newTempFile(b.id + "-out"));
            b.errorSpool = new LineSpool(files.newTempFile(b.id + "-err"));
        }
    }

    /**
     * Ends a batch as completed, cancelled or expired: unfinished requests go to the error file (batch_cancelled /
     * batch_expired), then the output and error files are written in shuffled order.
     */
    private void finish(BatchState b, String status) throws IOException {
        long now = now();
        if (b.total > b.processed) {
            openProcessing(b);
            String code = status.equals(BatchState.EXPIRED) ? "batch_expired" : "batch_cancelled";
            String message = status.equals(BatchState.EXPIRED)
                    ? "This request could not be executed before the completion window expired."
                    : "This request was not executed because the batch was cancelled.";
            String text;
            while (b.processed < b.total && (text = b.reader.next()) != null) {
                JsonNode req = Json.MAPPER.readTree(text);
                ObjectNode line = Json.object();
                line.put("id", Ids.batchRequest());
                line.put("custom_id", req.path("custom_id").asText());
                line.putNull("response");
                ObjectNode error = line.putObject("error");
                error.put("code", code);
                error.put("message", message);
                b.errorSpool.append(Json.string(line));
                b.failed++;
                b.processed++;
            }
        }
        Random random = new Random(cfg.seed() * 31 + b.seq);
        if (b.outputSpool != null && b.outputSpool.count() > 0) {
            b.outputFileId = storeSpool(b, b.outputSpool, "output", random);
        }
        if (b.errorSpool != null && b.errorSpool.count() > 0) {
            b.errorFileId = storeSpool(b, b.errorSpool, "error", random);
        }
        b.status = status;
        switch (status) {
            case BatchState.COMPLETED -> b.completedAt = now;
            case BatchState.CANCELLED -> b.cancelledAt = now;
            case BatchState.EXPIRED -> b.expiredAt = now;
            default -> throw new IllegalArgumentException(status);
        }
        b.usageReady = true;
        releaseResources(b);
        LOG.debug("batch {} {}: {} completed, {} failed", b.id, status, b.completed, b.failed);
    }

    private String storeSpool(BatchState b, LineSpool spool, String kind, Random random) throws IOException {
        Path tmp = files.newTempFile(b.id + "-" + kind + "-final");
        try {
            spool.writeShuffled(tmp, random);
            Long ttl = b.outputExpiresAfterSeconds != null ? b.outputExpiresAfterSeconds
                    : FileStore.DEFAULT_BATCH_FILE_TTL_SECONDS;
            return files.add(tmp, b.id + "_" + kind + ".jsonl", "batch_output", ttl).id();
        } finally {
            FileStore.deleteQuietly(tmp);
        }
    }

    private void failInternally(BatchState b, Exception e) {
        LOG.error("batch {} failed with an internal error", b.id, e);
        b.errors = Json.array().add(InputValidator.error("server_error",
                "The batch failed because of an internal simulator error: " + e, null, null));
        b.status = BatchState.FAILED;
        b.failedAt = now();
        releaseResources(b);
        b.publish();
        if (b.future != null) {
            b.future.cancel(false);
        }
    }

    private void releaseResources(BatchState b) {
        if (b.admitted) {
            synchronized (admission) {
                enqueuedByModel.merge(b.model, -b.enqueuedTokens, Long::sum);
            }
            b.admitted = false;
        }
        if (b.reader != null) {
            try {
                b.reader.close();
            } catch (IOException ignored) {
                // best effort
            }
            b.reader = null;
        }
        if (b.outputSpool != null) {
            b.outputSpool.close();
            b.outputSpool = null;
        }
        if (b.errorSpool != null) {
            b.errorSpool.close();
            b.errorSpool = null;
        }
    }

    // ------------------------------------------------------------------ parameter checks

    /** The {@code /v1/...} form of a supported endpoint (Azure mode also accepts it without /v1), else null. */
    String canonicalEndpoint(String endpoint) {
        if (ENDPOINTS.contains(endpoint)) {
            return endpoint;
        }
        if (cfg.azureMode() && ENDPOINTS.contains("/v1" + endpoint)) {
            return "/v1" + endpoint;
        }
        return null;
    }

    private static String requiredString(JsonNode req, String field) {
        JsonNode v = req.get(field);
        if (v == null || v.isNull()) {
            throw ApiException.badRequest("Missing required parameter: '" + field + "'.", field,
                    "missing_required_parameter");
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("Invalid type for '" + field + "': expected a string, but got "
                    + v.getNodeType().name().toLowerCase(Locale.ROOT) + " instead.", field, "invalid_type");
        }
        return v.textValue();
    }

    private static Map<String, String> metadata(JsonNode m) {
        if (m == null || m.isNull()) {
            return null;
        }
        if (!m.isObject()) {
            throw ApiException.badRequest("Invalid type for 'metadata': expected an object.", "metadata", "invalid_type");
        }
        if (m.size() > 16) {
            throw ApiException.badRequest("Invalid 'metadata': too many properties. Expected an object with at most 16 "
                    + "properties, but got an object with " + m.size() + " properties instead.", "metadata",
                    "object_above_max_properties");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().length() > 64) {
                throw ApiException.badRequest("Invalid 'metadata': key '" + e.getKey().substring(0, 64)
                        + "...' is longer than 64 characters.", "metadata", "string_above_max_length");
            }
            if (!e.getValue().isTextual()) {
                throw ApiException.badRequest("Invalid type for 'metadata." + e.getKey()
                        + "': expected a string.", "metadata." + e.getKey(), "invalid_type");
            }
            if (e.getValue().textValue().length() > 512) {
                throw ApiException.badRequest("Invalid 'metadata." + e.getKey() + "': string too long. Expected a string "
                        + "with maximum length 512, but got a string with length " + e.getValue().textValue().length()
                        + " instead.", "metadata." + e.getKey(), "string_above_max_length");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }

    /** Validates a {@code {anchor, seconds}} expiration policy; returns the seconds or null. */
    static Long expiresAfter(JsonNode n, String param) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject() || !"created_at".equals(n.path("anchor").asText()) || !n.path("seconds").canConvertToLong()) {
            throw ApiException.badRequest("Invalid '" + param + "': expected {\"anchor\": \"created_at\", \"seconds\": "
                    + "<3600..2592000>}.", param, "invalid_value");
        }
        return checkSeconds(n.path("seconds").longValue(), param);
    }

    static Long checkSeconds(long seconds, String param) {
        if (seconds < 3600 || seconds > 2592000) {
            throw ApiException.badRequest("Invalid '" + param + ".seconds': must be between 3600 (1 hour) and 2592000 "
                    + "(30 days), but got " + seconds + ".", param + ".seconds", "invalid_value");
        }
        return seconds;
    }

    private long now() {
        return Ids.nowSeconds(cfg.clock());
    }
}
