package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchError;
import dev.camelbatch.openaibatch.api.BatchStatus;
import dev.camelbatch.openaibatch.engine.lines.CustomIdSet;
import dev.camelbatch.openaibatch.engine.lines.OutputLine;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to requests that did not get a final answer: a failed batch (quota, errors naming lines, anything
 * else, each with its own rule), error lines worth another attempt, and requests a finished batch left unanswered.
 * Retried requests go into a new segment of their own (attempt n+1), up to {@code maxAttempts}; what cannot be retried
 * comes out as errors, made up from the spool where the service gave no line.
 */
final class FailurePolicy {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);
    private static final Set<String> RETRYABLE_LINE_CODES = Set.of("batch_expired", "request_timeout",
            "rate_limit_exceeded", "server_error", "internal_error");
    private static final Set<String> QUOTA_CODES = Set.of("token_limit_exceeded", "request_limit_exceeded",
            "enqueued_token_limit_exceeded", "billing_hard_limit_reached");

    private final EngineContext ctx;
    private final BatchStore store;
    private final EngineConfig config;
    private final EngineStats stats;
    private final ObjectMapper mapper;

    FailurePolicy(EngineContext ctx) {
        this.ctx = ctx;
        this.store = ctx.store;
        this.config = ctx.config;
        this.stats = ctx.stats;
        this.mapper = ctx.mapper;
    }

    /**
     * A batch failed as a whole: a quota failure waits and is resubmitted with fewer batches of its model in flight;
     * errors naming lines make those requests errors and resubmit the rest; anything else is resubmitted until
     * {@code maxBatchFailures}, then every request comes out as an error.
     */
    void batchFailed(SegmentInfo s, Batch b) throws IOException {
        List<BatchError> errors = b.getErrors() != null && b.getErrors().getData() != null
                ? b.getErrors().getData() : List.of();
        String summary = summarize(errors);
        boolean quota = errors.stream().anyMatch(e -> e.getCode() != null && QUOTA_CODES.contains(e.getCode()));
        boolean lineErrors = !errors.isEmpty() && errors.stream().allMatch(e -> e.getLine() != null);
        ctx.fire(BatchEvent.Type.FAILED, s, b, summary);
        if (!ctx.provider.delete(s.getInputFileId())) {
            ctx.pendingDeletes.add(s.getInputFileId());
        }
        s.setBatchFailures(s.getBatchFailures() + 1);
        if (quota) {
            s.setQuotaFailures(s.getQuotaFailures() + 1);
            int current = (int) store.segments().stream().filter(x -> x.getStatus().isInFlight()
                    && s.getModel().equals(x.getModel())).count();
            ctx.modelConcurrency.put(s.getModel(), Math.max(1, current - 1));
            resetForResubmission(s, "quota: " + summary, s.getQuotaFailures());
            LOG.warn("Batch engine '{}': batch {} failed on a quota ({}); segment {} waits and is resubmitted, at most"
                     + " {} batch(es) of {} in flight until one completes", store.name(), b.getId(), summary,
                    s.getId(), ctx.modelConcurrency.get(s.getModel()), s.getModel());
            return;
        }
        if (lineErrors) {
            // the named lines come out as errors; the rest is resubmitted without them
            Map<Long, String> byLine = new HashMap<>();
            for (BatchError e : errors) {
                byLine.put(e.getLine().longValue(), (e.getCode() != null ? e.getCode() + ": " : "") + e.getMessage());
            }
            List<SpoolRecord> rest = new ArrayList<>();
            List<byte[]> bad = new ArrayList<>();
            long[] n = { 0 };
            store.readRequests(s.getId(), line -> {
                n[0]++;
                if (byLine.containsKey(n[0])) {
                    bad.add(line);
                } else {
                    rest.add(new SpoolRecord(RequestLines.customId(mapper, line), line, null, 0));
                }
            });
            s.setLastError(summary);
            SegmentLifecycle.move(s, SegmentStatus.FINISHED);
            s.setBatchStatus(BatchStatus.FAILED.value());
            s.setOutputFileId(null);
            s.setErrorFileId(null);
            pendingSynthetic.put(s.getId(), new SyntheticPlan(byLine, "invalid_request_line"));
            store.update(s);
            if (!rest.isEmpty()) {
                SegmentInfo retry = createRetrySegment(s, rest, s.getAttempt());
                LOG.warn("Batch engine '{}': batch {} failed on {} line(s); {} other requests resubmitted as"
                         + " segment {}",
                        store.name(), b.getId(), byLine.size(), rest.size(), retry.getId());
            }
            ctx.emitSoon();
            return;
        }
        // failed batches of this segment attempt that were not quota failures, this one included
        int failures = s.getBatchFailures() - s.getQuotaFailures();
        if (failures < config.maxBatchFailures) {
            resetForResubmission(s, summary, failures);
            LOG.warn("Batch engine '{}': batch {} failed ({}); resubmitting segment {} ({} of {})", store.name(),
                    b.getId(), summary, s.getId(), failures + 1, config.maxBatchFailures);
            return;
        }
        LOG.error("Batch engine '{}': batch {} failed ({}) {} times; its {} requests come out as errors",
                store.name(), b.getId(), summary, failures, s.getRequestCount());
        s.setLastError(summary);
        SegmentLifecycle.move(s, SegmentStatus.FINISHED);
        s.setOutputFileId(null);
        s.setErrorFileId(null);
        pendingSynthetic.put(s.getId(), new SyntheticPlan(null, "batch_failed"));
        store.update(s);
        ctx.emitSoon();
    }

    /**
     * Requests of a finished segment that come out as errors made by the engine: only the lines of {@code onlyLines}
     * (by request line number, with their messages), or every request when it is {@code null}.
     */
    record SyntheticPlan(Map<Long, String> onlyLines, String code) {
    }

    /** Failed batches whose requests come out as synthetic errors (rebuilt from lastError after a restart). */
    private final Map<String, SyntheticPlan> pendingSynthetic = new HashMap<>();

    private void resetForResubmission(SegmentInfo s, String reason, int failures) throws IOException {
        long delay = EngineContext.backoff(config.submitRetryDelay, config.maxSubmitRetryDelay, failures);
        s.setSubmitFailures(0);
        SegmentLifecycle.move(s, SegmentStatus.SEALED);
        s.setInputFileId(null);
        s.setBatchId(null);
        s.setBatchStatus(null);
        s.setBatchCreatedAt(null);
        s.setCompleted(0);
        s.setFailed(0);
        s.setTotal(0);
        s.setFinishedAt(null);
        s.setLastError(reason);
        s.setNotBefore(System.currentTimeMillis() + delay);
        store.update(s);
        ctx.fire(BatchEvent.Type.RESUBMITTED, s, null, reason);
    }

    SegmentInfo createRetrySegment(SegmentInfo parent, List<SpoolRecord> records, int attempt)
            throws IOException {
        Map<String, byte[]> carried = store.carriedHeaders(parent.getId());
        List<SpoolRecord> withHeaders = new ArrayList<>(records.size());
        for (SpoolRecord r : records) {
            withHeaders.add(new SpoolRecord(r.customId(), r.line(), carried.get(r.customId()), r.tokens()));
        }
        SegmentInfo retry = store.createSealedSegment(parent.getEndpoint(), parent.getModel(), attempt,
                parent.getId(), withHeaders);
        stats.requestsResubmitted.addAndGet(records.size());
        ctx.fire(BatchEvent.Type.RESUBMITTED, retry, null, records.size() + " requests of " + parent.getId());
        return retry;
    }

    private static String summarize(List<BatchError> errors) {
        if (errors.isEmpty()) {
            return "no error details";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(3, errors.size()); i++) {
            BatchError e = errors.get(i);
            if (i > 0) {
                sb.append("; ");
            }
            sb.append(e.getCode()).append(": ").append(e.getMessage());
            if (e.getLine() != null) {
                sb.append(" (line ").append(e.getLine()).append(')');
            }
        }
        if (errors.size() > 3) {
            sb.append("; and ").append(errors.size() - 3).append(" more");
        }
        return sb.toString();
    }

    /**
     * The requests of a finished segment that no line of its output or error file answers: added to {@code toRetry}
     * when unfinished requests are resubmitted (expired, cancelled as stuck) and attempts are left, else a plan to
     * report them as errors.
     */
    SyntheticPlan unanswered(SegmentInfo s, CustomIdSet answered, boolean retryUnfinished,
            Set<String> toRetry) throws IOException {
        String status = s.getBatchStatus() != null ? s.getBatchStatus() : "";
        boolean retry = retryUnfinished && s.getAttempt() < config.maxAttempts;
        String code;
        String message;
        BatchStatus typed = BatchStatus.fromValue(status);
        switch (typed != null ? typed : BatchStatus.COMPLETED) {
            case EXPIRED -> {
                code = "batch_expired";
                message = "This request was not executed before the batch expired (no line in its output or error"
                          + " file)";
            }
            case CANCELLED -> {
                code = "batch_cancelled";
                message = "This request was not executed because the batch was cancelled (no line in its output or"
                          + " error file)";
            }
            default -> {
                code = "missing_output_line";
                message = "The batch ended " + status + " without a line for this request in its output or error"
                          + " file";
            }
        }
        Map<Long, String> missing = new LinkedHashMap<>();
        long[] n = { 0, 0 };
        store.readRequests(s.getId(), line -> {
            n[0]++;
            String id = RequestLines.customId(mapper, line);
            if (!answered.contains(id)) {
                n[1]++;
                if (retry) {
                    toRetry.add(id);
                } else {
                    missing.put(n[0], message);
                }
            }
        });
        if (n[1] > 0) {
            LOG.warn("Batch engine '{}': batch {} ({}) has no line for {} of its {} requests; {}", store.name(),
                    s.getBatchId(), status, n[1], s.getRequestCount(),
                    retry ? "they are resubmitted" : "they come out as errors (" + code + ")");
        }
        return missing.isEmpty() ? null : new SyntheticPlan(missing, code);
    }

    /** Whether an error line is worth another attempt (429, 5xx, a retryable code; batch_cancelled if asked). */
    static boolean isRetryable(OutputLine p, boolean retryUnfinished) {
        if (!p.isObject()) {
            return false;
        }
        Integer status = p.statusCode();
        if (status != null && (status == 429 || status >= 500)) {
            return true;
        }
        String code = p.errorCode();
        if (code == null) {
            return false;
        }
        if ("batch_cancelled".equals(code)) {
            return retryUnfinished;
        }
        return RETRYABLE_LINE_CODES.contains(code);
    }

    /**
     * The plan for a finished segment's made-up errors: the one recorded when its batch failed, or, after a
     * restart, every request of a failed batch without files; {@code null} when there is none.
     */
    SyntheticPlan plan(SegmentInfo s) {
        SyntheticPlan plan = pendingSynthetic.get(s.getId());
        if (plan == null && BatchStatus.FAILED.value().equals(s.getBatchStatus()) && s.getOutputFileId() == null
            && s.getErrorFileId() == null) {
            plan = new SyntheticPlan(null, "batch_failed");
        }
        return plan;
    }

    /** A segment is done: its plan is dropped. */
    void forget(SegmentInfo s) {
        pendingSynthetic.remove(s.getId());
    }
}
