package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The mutable state of one batch. Fields are guarded by {@link #lock}; readers use the immutable
 * {@link #snapshot}, republished after every change.
 */
final class BatchState {

    static final String VALIDATING = "validating";
    static final String FAILED = "failed";
    static final String IN_PROGRESS = "in_progress";
    static final String FINALIZING = "finalizing";
    static final String COMPLETED = "completed";
    static final String EXPIRED = "expired";
    static final String CANCELLING = "cancelling";
    static final String CANCELLED = "cancelled";

    static final String[] ALL_STATUSES = {VALIDATING, FAILED, IN_PROGRESS, FINALIZING, COMPLETED, EXPIRED, CANCELLING,
        CANCELLED};

    final ReentrantLock lock = new ReentrantLock();
    final String id;
    final long seq;
    final String endpoint;
    final String inputFileId;
    final String completionWindow;
    final Map<String, String> metadata; // null when none was given
    final Long outputExpiresAfterSeconds;
    final long createdAt;
    final long expiresAt;

    String status = VALIDATING;
    String model;
    ArrayNode errors;
    String outputFileId;
    String errorFileId;
    Long inProgressAt;
    Long finalizingAt;
    Long completedAt;
    Long failedAt;
    Long expiredAt;
    Long cancellingAt;
    Long cancelledAt;
    int total;
    int completed;
    int failed;
    long inputTokens;
    long outputTokens;
    boolean usageReady;

    // processing
    long enqueuedTokens;
    boolean admitted;
    boolean stuck;
    boolean removed;
    int inProgressSteps;
    int processed;
    JsonlReader reader;
    LineSpool outputSpool;
    LineSpool errorSpool;
    ScheduledFuture<?> future;

    volatile ObjectNode snapshot;

    BatchState(String id, long seq, String endpoint, String inputFileId, String completionWindow,
            Map<String, String> metadata, Long outputExpiresAfterSeconds, long createdAt) {
        this.id = id;
        this.seq = seq;
        this.endpoint = endpoint;
        this.inputFileId = inputFileId;
        this.completionWindow = completionWindow;
        this.metadata = metadata;
        this.outputExpiresAfterSeconds = outputExpiresAfterSeconds;
        this.createdAt = createdAt;
        this.expiresAt = createdAt + 24L * 3600;
    }

    boolean terminal() {
        return isTerminal(status);
    }

    static boolean isTerminal(String status) {
        return FAILED.equals(status) || COMPLETED.equals(status) || EXPIRED.equals(status) || CANCELLED.equals(status);
    }

    /** Rebuilds the Batch JSON; call with the lock held after a change. */
    void publish() {
        ObjectNode n = Json.object();
        n.put("id", id);
        n.put("object", "batch");
        n.put("endpoint", endpoint);
        Json.putString(n, "model", model);
        if (errors == null) {
            n.putNull("errors");
        } else {
            ObjectNode e = n.putObject("errors");
            e.put("object", "list");
            e.set("data", errors.deepCopy());
        }
        n.put("input_file_id", inputFileId);
        n.put("completion_window", completionWindow);
        n.put("status", status);
        Json.putString(n, "output_file_id", outputFileId);
        Json.putString(n, "error_file_id", errorFileId);
        n.put("created_at", createdAt);
        Json.putLong(n, "in_progress_at", inProgressAt);
        n.put("expires_at", expiresAt);
        Json.putLong(n, "finalizing_at", finalizingAt);
        Json.putLong(n, "completed_at", completedAt);
        Json.putLong(n, "failed_at", failedAt);
        Json.putLong(n, "expired_at", expiredAt);
        Json.putLong(n, "cancelling_at", cancellingAt);
        Json.putLong(n, "cancelled_at", cancelledAt);
        ObjectNode counts = n.putObject("request_counts");
        counts.put("total", total);
        counts.put("completed", completed);
        counts.put("failed", failed);
        if (usageReady) {
            ObjectNode u = n.putObject("usage");
            u.put("input_tokens", inputTokens);
            u.putObject("input_tokens_details").put("cached_tokens", 0);
            u.put("output_tokens", outputTokens);
            u.putObject("output_tokens_details").put("reasoning_tokens", 0);
            u.put("total_tokens", inputTokens + outputTokens);
        } else {
            n.putNull("usage");
        }
        if (metadata == null) {
            n.putNull("metadata");
        } else {
            ObjectNode m = n.putObject("metadata");
            metadata.forEach(m::put);
        }
        snapshot = n;
    }
}
