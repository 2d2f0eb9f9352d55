package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.OpenAIApiException;
import dev.camelbatch.openaibatch.api.OpenAIAuthenticationException;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.LeaseLostException;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which segments are submitted when: sealed segments in creation order, as long as fewer than
 * {@code maxInFlightBatches} batches are in flight, a model lowered after a quota failure has room, and its enqueued
 * tokens stay within {@code maxEnqueuedTokens}; a submission recorded as started goes on (reconciled first, by the
 * {@link Submitter}). A failed submission waits the engine's backoff; a refused key stops every submission until a
 * cheap probe finds it accepted again.
 */
final class Submissions {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);

    private final EngineContext ctx;
    private final BatchStore store;
    private final EngineConfig config;
    private final EngineStats stats;
    private final SegmentLeases leases;
    private final Submitter submitter;
    private long nextAuthProbeAt;

    Submissions(EngineContext ctx) {
        this.ctx = ctx;
        this.store = ctx.store;
        this.config = ctx.config;
        this.stats = ctx.stats;
        this.leases = ctx.leases;
        // the lease is confirmed right before each upload and create: a node paused past its lease makes nothing
        this.submitter = new Submitter(store, ctx.provider, s -> leases.confirm(s.getId()));
    }

    /** Submits what may be submitted now, and goes on with submissions recorded as started. */
    void submitPending() {
        if (ctx.authProblem != null && !probeAuth()) {
            return;
        }
        List<SegmentInfo> all = store.segments();
        int inFlight = 0;
        Map<String, Integer> inFlightByModel = new HashMap<>();
        Map<String, Long> tokensByModel = new HashMap<>();
        for (SegmentInfo s : all) {
            if (s.getStatus().isInFlight()) {
                inFlight++;
                inFlightByModel.merge(s.getModel(), 1, Integer::sum);
                tokensByModel.merge(s.getModel(), s.getTokens(), Long::sum);
            }
        }
        long now = System.currentTimeMillis();
        for (SegmentInfo s : all) {
            if (!ctx.running() || ctx.authProblem != null) {
                // a refused key: no further upload in this pass (the probe decides when to try again)
                return;
            }
            SegmentStatus st = s.getStatus();
            if (st == SegmentStatus.UPLOADING || st == SegmentStatus.UPLOADED || st == SegmentStatus.CREATING) {
                if (s.getNotBefore() == null || s.getNotBefore() <= now) {
                    // under the lease; a step recorded as started is reconciled before anything is sent
                    SegmentInfo mine = leases.claim(s);
                    if (mine != null) {
                        advanceSubmission(mine);
                    }
                }
                continue;
            }
            if (st != SegmentStatus.SEALED) {
                continue;
            }
            if (s.getNotBefore() != null && s.getNotBefore() > now) {
                continue;
            }
            if (inFlight >= config.maxInFlightBatches) {
                return;
            }
            Integer lowered = ctx.modelConcurrency.get(s.getModel());
            if (lowered != null && inFlightByModel.getOrDefault(s.getModel(), 0) >= lowered) {
                continue;
            }
            if (config.maxEnqueuedTokens > 0) {
                long enqueued = tokensByModel.getOrDefault(s.getModel(), 0L);
                if (enqueued > 0 && enqueued + s.getTokens() > config.maxEnqueuedTokens) {
                    continue;
                }
            }
            SegmentInfo mine = leases.claim(s);
            if (mine == null) {
                // another node submits it
                continue;
            }
            inFlight++;
            inFlightByModel.merge(s.getModel(), 1, Integer::sum);
            tokensByModel.merge(s.getModel(), s.getTokens(), Long::sum);
            advanceSubmission(mine);
        }
    }

    private boolean probeAuth() {
        long now = System.currentTimeMillis();
        if (now < nextAuthProbeAt) {
            return false;
        }
        // one cheap call per poll interval (at most every 30 s once backed off), not one per engine cycle
        nextAuthProbeAt = now + Math.max(config.pollInterval, Math.min(config.maxPollInterval, 30_000));
        try {
            ctx.provider.checkAccess();
            LOG.info("Batch engine '{}': the API accepts the key again; resuming submissions", store.name());
            ctx.authProblem = null;
            return true;
        } catch (OpenAIAuthenticationException e) {
            return false;
        } catch (OpenAIApiException e) {
            // another answer than a refusal: the key is accepted
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void advanceSubmission(SegmentInfo s) {
        try {
            Batch batch = submitter.submit(s, false);
            ctx.pollSoon();
            LOG.info("Batch engine '{}': submitted segment {} ({} requests, model {}) as batch {}", store.name(),
                    s.getId(), s.getRequestCount(), s.getModel(), batch.getId());
            ctx.fire(BatchEvent.Type.SUBMITTED, s, batch, "submitted");
        } catch (IOException | RuntimeException e) {
            submissionFailed(s, e);
        }
    }

    private void submissionFailed(SegmentInfo s, Exception e) {
        if (e instanceof LeaseLostException) {
            // another node took the segment over (and reconciles whatever this one did): leave it alone
            leases.forget(s.getId());
            LOG.warn("Batch engine '{}': {}", store.name(), e.getMessage());
            return;
        }
        stats.submitFailures.incrementAndGet();
        if (e instanceof OpenAIAuthenticationException refused) {
            ctx.keyRefused(refused);
            return;
        }
        int failures = s.getSubmitFailures() + 1;
        long delay = EngineContext.backoff(config.submitRetryDelay, config.maxSubmitRetryDelay, failures);
        s.setSubmitFailures(failures);
        s.setNotBefore(System.currentTimeMillis() + delay);
        s.setLastError(e.getMessage());
        try {
            store.update(s);
        } catch (IOException io) {
            LOG.warn("Cannot record submission failure of {}: {}", s.getId(), io.getMessage());
        }
        LOG.warn("Batch engine '{}': submitting segment {} failed ({}), retrying in {} ms", store.name(), s.getId(),
                e.getMessage(), delay);
    }
}
