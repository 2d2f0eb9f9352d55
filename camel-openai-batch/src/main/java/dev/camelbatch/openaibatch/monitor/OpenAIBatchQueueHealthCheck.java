package dev.camelbatch.openaibatch.monitor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchEndpoint;
import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * The batches of one endpoint name: DOWN while a submitted batch makes no progress (the engine reported it STUCK, or
 * no progress for {@code healthCheckMaxBatchIdleTime}), while a segment keeps failing ({@code
 * healthCheckMaxBatchFailures} failed batches or failed submissions in a row), while the spool holds more than {@code
 * healthCheckMaxWaitingRequests} waiting requests, or while sealed segments wait and nothing has drained the spool for
 * {@code healthCheckSpoolStallTime}. Reads the store's state and the counters of the name; never calls the API.
 */
public class OpenAIBatchQueueHealthCheck extends AbstractHealthCheck {

    /** Problems listed in the message at most (the details have the counts). */
    private static final int MAX_LISTED = 5;

    private final OpenAIBatchComponent component;
    private final OpenAIBatchEndpoint endpoint;

    public OpenAIBatchQueueHealthCheck(OpenAIBatchComponent component, OpenAIBatchEndpoint endpoint) {
        super("camel", "openai-batch-batches-" + endpoint.getName());
        this.component = component;
        this.endpoint = endpoint;
    }

    @Override
    public boolean isLiveness() {
        // a stuck batch or a backlog is not cured by a restart
        return false;
    }

    @Override
    public boolean isEnabled() {
        return super.isEnabled() && component.isHealthCheckConsumerEnabled();
    }

    OpenAIBatchEndpoint endpoint() {
        return endpoint;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        builder.detail("openai-batch.name", endpoint.getName());
        OpenAIBatchRuntime rt = OpenAIBatchRuntime.peek(endpoint);
        if (rt == null) {
            // no producer or consumer of this name has started in this JVM
            builder.detail("state", "idle");
            builder.up();
            return;
        }
        OpenAIBatchMonitor m = rt.monitor();
        OpenAIBatchMonitor.Snapshot snap = m.snapshot();
        long now = System.currentTimeMillis();
        List<String> problems = new ArrayList<>();

        List<String> stuck = new ArrayList<>();
        List<String> failing = new ArrayList<>();
        long maxIdle = component.getHealthCheckMaxBatchIdleTime();
        int maxFailures = component.getHealthCheckMaxBatchFailures();
        long oldestSealed = Long.MAX_VALUE;
        for (SegmentInfo s : snap.segments()) {
            if (s.getStatus() == SegmentStatus.SUBMITTED) {
                long since = s.getLastProgressAt() != null ? s.getLastProgressAt()
                        : s.getSubmittedAt() != null ? s.getSubmittedAt() : now;
                long idle = now - since;
                if (m.stuckSegments().containsKey(s.getId()) || (maxIdle > 0 && idle >= maxIdle)) {
                    int total = s.getTotal() > 0 ? s.getTotal() : s.getRequestCount();
                    stuck.add(s.getBatchId() + " (" + s.getBatchStatus() + ", " + s.getCompleted() + "/" + total
                              + ", no progress for " + idle / 1000 + " s)");
                }
            }
            if (maxFailures > 0) {
                int failedBatches = m.failedBatchesBySegment().getOrDefault(s.getId(), 0);
                if (s.getSubmitFailures() >= maxFailures || failedBatches >= maxFailures) {
                    failing.add("segment " + s.getId() + " (" + Math.max(s.getSubmitFailures(), failedBatches)
                                + " failures" + (s.getLastError() != null ? ", last: " + s.getLastError() : "")
                                + ")");
                }
            }
            if (s.getStatus() == SegmentStatus.SEALED && s.getSealedAt() != null) {
                oldestSealed = Math.min(oldestSealed, s.getSealedAt());
            }
        }
        builder.detail("batches.in.flight", snap.batchesInFlight());
        builder.detail("batches.stuck", stuck.size());
        builder.detail("segments.failing", failing.size());
        if (!stuck.isEmpty()) {
            builder.detail("batches.stuck.ids", String.join(", ", stuck));
            problems.add(stuck.size() + " batch(es) without progress: " + list(stuck));
        }
        if (!failing.isEmpty()) {
            builder.detail("segments.failing.ids", String.join(", ", failing));
            problems.add(failing.size() + " segment(s) failing repeatedly: " + list(failing));
        }

        long waiting = snap.requestsWaiting();
        builder.detail("requests.waiting", waiting);
        builder.detail("segments.open", snap.segments(SegmentStatus.OPEN));
        builder.detail("segments.sealed", snap.segments(SegmentStatus.SEALED));
        long maxWaiting = component.getHealthCheckMaxWaitingRequests();
        if (maxWaiting > 0 && waiting > maxWaiting) {
            problems.add(waiting + " requests wait in the spool (more than " + maxWaiting + ")");
        }
        long stall = component.getHealthCheckSpoolStallTime();
        if (oldestSealed != Long.MAX_VALUE) {
            long waited = now - oldestSealed;
            long quiet = now - m.lastActivity();
            builder.detail("segments.sealed.oldest.age", waited);
            if (stall > 0 && waited >= stall && quiet >= stall) {
                problems.add("sealed segments have waited " + waited / 1000 + " s and nothing was submitted or"
                             + " delivered for " + quiet / 1000 + " s"
                             + (m.isEngineRunning() ? "" : " (no consumer of this name runs)")
                             + (m.authProblem() != null ? " (the API refused the key: " + m.authProblem() + ")" : ""));
            }
        }
        builder.detail("engine.running", m.isEngineRunning());
        if (problems.isEmpty()) {
            builder.up();
        } else {
            builder.message(String.join("; ", problems)).down();
        }
    }

    private static String list(List<String> items) {
        if (items.size() <= MAX_LISTED) {
            return String.join(", ", items);
        }
        return String.join(", ", items.subList(0, MAX_LISTED)) + ", ...";
    }
}
