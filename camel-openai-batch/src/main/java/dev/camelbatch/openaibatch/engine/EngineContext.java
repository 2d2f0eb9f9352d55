package dev.camelbatch.openaibatch.engine;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.OpenAIApiException;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the parts of one engine ({@link Submissions}, {@link Poller}, {@link FailurePolicy}, {@link Emitter},
 * {@link Downloads}, {@link Cleanup}) share: the store, the API client, the settings, the counters, the leases, the
 * event listener, and the little in-memory state that more than one part reads. Apart from the counters, the running
 * flag and the authentication problem, all of it is touched by the engine thread only.
 */
final class EngineContext {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);

    /** lastError of a segment whose batch the engine cancelled as stuck (persisted, so it survives a restart). */
    static final String STUCK_CANCELLED = "cancelled by the engine as stuck";

    final BatchStore store;
    /** The remote batch service; the engine's parts talk to it through this seam only. */
    final BatchProvider provider;
    final EngineConfig config;
    final ObjectMapper mapper;
    final Path workDir;
    final EngineStats stats;
    /** Leases on the segments this node drives (stores shared by several nodes; every claim succeeds otherwise). */
    final SegmentLeases leases;
    final AtomicBoolean running = new AtomicBoolean();
    private final EngineListener listener;

    /** Per model: lowered concurrency after a quota failure, until a batch of that model completes. */
    final Map<String, Integer> modelConcurrency = new HashMap<>();
    /** Batches this engine cancelled as stuck: their unfinished requests are resubmitted. */
    final Set<String> stuckCancelled = new HashSet<>();
    /** Remote files whose deletion failed outside of a segment's clean-up; tried again each cycle (in memory only). */
    final Set<String> pendingDeletes = new HashSet<>();

    /** The poll interval now (backed off while nothing changes). */
    long currentPollInterval;
    /** When the next poll is due. */
    long nextPollAt;
    /** When the next emission pass is due. */
    long nextEmitAt;
    /** The last authentication problem (401/403), or {@code null} when the key works. */
    volatile String authProblem;

    EngineContext(BatchStore store, BatchProvider provider, EngineStats stats, EngineConfig config,
            EngineListener listener, ObjectMapper mapper, Path workDir) {
        this.store = store;
        this.provider = provider;
        this.stats = stats;
        this.config = config;
        this.listener = listener != null ? listener : e -> {
        };
        this.mapper = mapper;
        this.workDir = workDir;
        this.currentPollInterval = config.pollInterval;
        this.leases = new SegmentLeases(store, config.nodeId != null && !config.nodeId.isBlank() ? config.nodeId
                : SegmentLeases.defaultNodeId(), config.leaseDuration);
    }

    String name() {
        return store.name();
    }

    boolean running() {
        return running.get();
    }

    /** Tells the listener; a listener that fails is logged, never in the engine's way. */
    void fire(BatchEvent.Type type, SegmentInfo s, Batch b, String message) {
        try {
            listener.onEvent(new BatchEvent(type, s != null ? s.copy() : null, b, message));
        } catch (RuntimeException e) {
            LOG.warn("Batch event listener failed: {}", e.toString());
        }
    }

    /** Records a refused key (401/403): logged at ERROR once, until the key works again. */
    void keyRefused(OpenAIApiException api) {
        if (authProblem == null) {
            LOG.error("Batch engine '{}': the API refused the key ({}): submissions stop until it works again;"
                      + " nothing spooled is lost", name(), api.getHttpStatus());
        }
        authProblem = api.getHttpStatus() + " " + api.getMessage();
    }

    /** A poll soon: something was submitted. */
    void pollSoon() {
        currentPollInterval = config.pollInterval;
        nextPollAt = Math.min(nextPollAt, System.currentTimeMillis() + config.pollInterval);
    }

    /** An emission pass at the next cycle: a batch finished. */
    void emitSoon() {
        nextEmitAt = 0;
    }

    /** The engine's one backoff rule: {@code base} doubled for every failure after the first, at most {@code max}. */
    static long backoff(long base, long max, int failures) {
        return Math.min(max, base * (1L << Math.min(20, Math.max(1, failures) - 1)));
    }
}
