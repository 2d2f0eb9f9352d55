package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchStatus;
import dev.camelbatch.openaibatch.api.OpenAIApiException;
import dev.camelbatch.openaibatch.api.OpenAIAuthenticationException;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.LeaseLostException;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls the batches this node drives, all of them at once through the {@link BatchProvider} (for OpenAI one list
 * call per cycle); records progress and usage, reports a
 * batch without progress as stuck (and cancels it when asked to), hands a finished batch to emission and a failed
 * one to the {@link FailurePolicy}. The poll interval backs off while nothing changes.
 */
final class Poller {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);

    private final EngineContext ctx;
    private final BatchStore store;
    private final EngineConfig config;
    private final EngineStats stats;
    private final SegmentLeases leases;
    private final FailurePolicy failures;
    /** When progress of a batch was last logged (at most every progressLogInterval). */
    private final Map<String, Long> lastProgressLog = new HashMap<>();
    /** Batches reported as stuck (once each). */
    private final Map<String, Long> stuckReported = new HashMap<>();

    Poller(EngineContext ctx, FailurePolicy failures) {
        this.ctx = ctx;
        this.store = ctx.store;
        this.config = ctx.config;
        this.stats = ctx.stats;
        this.leases = ctx.leases;
        this.failures = failures;
    }

    /** One poll of every batch this node drives: one list call for all of them, unless some fall outside it. */
    void poll() {
        List<SegmentInfo> inFlight = new ArrayList<>();
        for (SegmentInfo s : store.segments()) {
            if (s.getStatus() == SegmentStatus.SUBMITTED) {
                // only the batches this node holds (still one list call per cycle for all of them)
                SegmentInfo mine = leases.claim(s);
                if (mine != null && mine.getStatus() == SegmentStatus.SUBMITTED) {
                    inFlight.add(mine);
                }
            }
        }
        if (inFlight.isEmpty()) {
            ctx.nextPollAt = System.currentTimeMillis() + config.pollInterval;
            ctx.currentPollInterval = config.pollInterval;
            return;
        }
        stats.pollCycles.incrementAndGet();
        Map<String, Batch> seen;
        boolean changed = false;
        try {
            seen = ctx.provider.poll(inFlight);
        } catch (OpenAIApiException e) {
            if (e instanceof OpenAIAuthenticationException refused) {
                ctx.keyRefused(refused);
            }
            LOG.warn("Batch engine '{}': polling failed ({}), backing off", store.name(), e.getMessage());
            backOffPolling(null);
            return;
        } catch (RuntimeException e) {
            LOG.warn("Batch engine '{}': polling failed ({}), backing off", store.name(), e.toString());
            backOffPolling(null);
            return;
        }
        for (SegmentInfo s : inFlight) {
            Batch b = seen.get(s.getBatchId());
            if (b != null) {
                try {
                    changed |= applyStatus(s, b);
                } catch (IOException e) {
                    if (e instanceof LeaseLostException) {
                        leases.forget(s.getId());
                    }
                    LOG.warn("Batch engine '{}': cannot record status of {}: {}", store.name(), s.getBatchId(),
                            e.getMessage());
                }
            }
        }
        if (changed) {
            ctx.currentPollInterval = config.pollInterval;
        } else {
            backOffPolling(null);
            return;
        }
        ctx.nextPollAt = System.currentTimeMillis() + ctx.currentPollInterval;
    }

    private void backOffPolling(Long hint) {
        ctx.currentPollInterval = Math.min(config.maxPollInterval, Math.max(config.pollInterval,
                (long) (ctx.currentPollInterval * 1.5)));
        long delay = hint != null ? Math.max(hint, ctx.currentPollInterval) : ctx.currentPollInterval;
        ctx.nextPollAt = System.currentTimeMillis() + delay;
    }

    /** Records what a poll saw of a batch; true when something changed. */
    private boolean applyStatus(SegmentInfo s, Batch b) throws IOException {
        String before = s.getBatchStatus() + "/" + s.getCompleted() + "/" + s.getFailed();
        s.setBatchStatus(b.getStatus());
        if (b.getRequestCounts() != null) {
            s.setTotal(nz(b.getRequestCounts().getTotal()));
            s.setCompleted(nz(b.getRequestCounts().getCompleted()));
            s.setFailed(nz(b.getRequestCounts().getFailed()));
        }
        String after = s.getBatchStatus() + "/" + s.getCompleted() + "/" + s.getFailed();
        boolean changed = !before.equals(after);
        long now = System.currentTimeMillis();
        if (changed) {
            s.setLastProgressAt(now);
        }
        BatchStatus status = BatchStatus.fromValue(b.getStatus());
        if (status != null && status.isTerminal()) {
            finished(s, b, status, now);
            return true;
        }
        if (changed) {
            store.update(s);
            Long last = lastProgressLog.get(s.getId());
            if (last == null || now - last >= config.progressLogInterval) {
                lastProgressLog.put(s.getId(), now);
                LOG.info("Batch engine '{}': batch {} {} {}/{} done, {} failed", store.name(), b.getId(),
                        b.getStatus(), s.getCompleted(), s.getTotal(), s.getFailed());
            }
            ctx.fire(BatchEvent.Type.PROGRESS, s, b, b.getStatus());
        }
        checkStuck(s, b, now);
        return changed;
    }

    /** A batch reached a terminal status: its files and usage are recorded, and a failed one goes to the policy. */
    private void finished(SegmentInfo s, Batch b, BatchStatus status, long now) throws IOException {
        s.setOutputFileId(b.getOutputFileId());
        s.setErrorFileId(b.getErrorFileId());
        s.setFinishedAt(now);
        if (b.getUsage() != null) {
            s.setInputTokens(b.getUsage().getInputTokens());
            s.setOutputTokens(b.getUsage().getOutputTokens());
            if (b.getUsage().getInputTokensDetails() != null) {
                s.setCachedTokens(b.getUsage().getInputTokensDetails().getCachedTokens());
            }
            if (b.getUsage().getOutputTokensDetails() != null) {
                s.setReasoningTokens(b.getUsage().getOutputTokensDetails().getReasoningTokens());
            }
        }
        stuckReported.remove(s.getId());
        if (status == BatchStatus.FAILED) {
            failures.batchFailed(s, b);
            return;
        }
        SegmentLifecycle.move(s, SegmentStatus.FINISHED);
        store.update(s);
        if (status == BatchStatus.COMPLETED) {
            ctx.modelConcurrency.remove(s.getModel());
        }
        LOG.info("Batch engine '{}': batch {} {} ({} completed, {} failed of {})", store.name(), b.getId(), status,
                s.getCompleted(), s.getFailed(), s.getTotal());
        ctx.fire(switch (status) {
            case COMPLETED -> BatchEvent.Type.COMPLETED;
            case EXPIRED -> BatchEvent.Type.EXPIRED;
            default -> BatchEvent.Type.CANCELLED;
        }, s, b, status.value());
        ctx.emitSoon();
    }

    private void checkStuck(SegmentInfo s, Batch b, long now) {
        if (config.stuckBatchTimeout <= 0) {
            return;
        }
        long since = s.getLastProgressAt() != null ? s.getLastProgressAt()
                : (s.getSubmittedAt() != null ? s.getSubmittedAt() : now);
        if (now - since < config.stuckBatchTimeout || stuckReported.containsKey(s.getId())) {
            return;
        }
        stuckReported.put(s.getId(), now);
        LOG.warn("Batch engine '{}': batch {} has been {} without progress for {} s", store.name(), s.getBatchId(),
                s.getBatchStatus(), (now - since) / 1000);
        ctx.fire(BatchEvent.Type.STUCK, s, b, "no progress for " + (now - since) / 1000 + " s");
        if (config.cancelStuckBatches) {
            try {
                ctx.provider.cancel(s.getBatchId());
                LOG.warn("Batch engine '{}': cancelled stuck batch {}; its unfinished requests will be resubmitted",
                        store.name(), s.getBatchId());
                ctx.stuckCancelled.add(s.getBatchId());
                s.setLastError(EngineContext.STUCK_CANCELLED);
                try {
                    store.update(s);
                } catch (IOException e) {
                    LOG.warn("Cannot record the cancellation of stuck batch {}: {}", s.getBatchId(), e.getMessage());
                }
            } catch (RuntimeException e) {
                LOG.warn("Cannot cancel stuck batch {}: {}", s.getBatchId(), e.getMessage());
            }
        }
    }

    /** A segment is done: nothing of it is kept. */
    void forget(SegmentInfo s) {
        lastProgressLog.remove(s.getId());
        stuckReported.remove(s.getId());
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
