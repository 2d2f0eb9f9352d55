package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.engine.io.PrivateFiles;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the segments of one endpoint name through their life, one cycle after the other on one thread: seals open
 * segments by age, then hands over to its parts - {@link Submissions} (what is submitted when, through the one
 * {@link Submitter}), {@link Poller} (one list call per cycle for every batch in flight), {@link Emitter} (one line at
 * a time to the {@link LineSink}, a checkpoint after each, with {@link Downloads} and the {@link FailurePolicy}) and
 * {@link Cleanup} - and plans when the next cycle is due. Everything runs on the engine thread, so the state of a
 * segment is never changed concurrently by the engine; only the next output file comes in on a thread of its own.
 */
public class BatchEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);
    public static final String META_NAME = Submitter.META_NAME;
    public static final String META_SEGMENT = Submitter.META_SEGMENT;
    public static final String META_ATTEMPT = Submitter.META_ATTEMPT;

    private final EngineContext ctx;
    private final BatchStore store;
    private final EngineConfig config;
    private final EngineThreads threads;
    private final Submissions submissions;
    private final Poller poller;
    private final Downloads downloads;
    private final Cleanup cleanup;
    private final Emitter emitter;
    private final AtomicBoolean wakeRequested = new AtomicBoolean();
    private ScheduledExecutorService executor;
    private ExecutorService downloader;

    /** An engine on the OpenAI (or Azure OpenAI) Batch API, on {@linkplain EngineThreads#plain() its own threads}. */
    public BatchEngine(BatchStore store, OpenAIBatchClient client, EngineConfig config, LineSink sink,
                       EngineListener listener, ObjectMapper mapper, Path workDir) {
        this(store, client, config, sink, listener, mapper, workDir, EngineThreads.plain());
    }

    /** An engine on the OpenAI (or Azure OpenAI) Batch API. */
    public BatchEngine(BatchStore store, OpenAIBatchClient client, EngineConfig config, LineSink sink,
                       EngineListener listener, ObjectMapper mapper, Path workDir, EngineThreads threads) {
        this(store, new EngineStats(), client, config, sink, listener, mapper, workDir, threads);
    }

    private BatchEngine(BatchStore store, EngineStats stats, OpenAIBatchClient client, EngineConfig config,
                        LineSink sink, EngineListener listener, ObjectMapper mapper, Path workDir,
                        EngineThreads threads) {
        this(store, new OpenAIProvider(client, store.name(), stats, config.completionWindow,
                config.inputFileExpiresAfter, config.maxListPages), stats, config, sink, listener, mapper, workDir,
                threads);
    }

    /** An engine on any batch service behind the {@link BatchProvider} seam. */
    public BatchEngine(BatchStore store, BatchProvider provider, EngineStats stats, EngineConfig config,
                       LineSink sink, EngineListener listener, ObjectMapper mapper, Path workDir,
                       EngineThreads threads) {
        this.ctx = new EngineContext(store, provider, stats, config, listener, mapper, workDir);
        this.store = store;
        this.config = config;
        this.threads = threads;
        FailurePolicy failures = new FailurePolicy(ctx);
        this.submissions = new Submissions(ctx);
        this.poller = new Poller(ctx, failures);
        this.downloads = new Downloads(ctx);
        this.cleanup = new Cleanup(ctx, downloads, failures, poller);
        this.emitter = new Emitter(ctx, sink, downloads, failures, cleanup);
    }

    public BatchStore store() {
        return store;
    }

    public EngineStats stats() {
        return ctx.stats;
    }

    /** The last authentication problem (401/403), or {@code null} when the key works. */
    public String authProblem() {
        return ctx.authProblem;
    }

    public synchronized void start() throws IOException {
        if (ctx.running()) {
            return;
        }
        PrivateFiles.createDirectories(ctx.workDir);
        ScheduledExecutorService ex = threads.newScheduler("openai-batch-engine-" + store.name());
        if (ex instanceof ScheduledThreadPoolExecutor stpe) {
            stpe.setRemoveOnCancelPolicy(true);
            // on stop, the next cycle waiting in the queue is dropped rather than waited for
            stpe.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        }
        executor = ex;
        downloader = threads.newThread("openai-batch-download-" + store.name());
        downloads.start(downloader);
        ctx.running.set(true);
        ctx.leases.start(threads);
        schedule(0);
        LOG.info("Batch engine '{}' started (poll {}..{} ms, maxInFlightBatches={})", store.name(),
                config.pollInterval, config.maxPollInterval, config.maxInFlightBatches);
    }

    /** Asks for a cycle soon (a segment was sealed, a flush was requested). */
    public void wakeUp() {
        if (ctx.running() && wakeRequested.compareAndSet(false, true)) {
            try {
                executor.execute(this::cycleSafely);
            } catch (RuntimeException e) {
                wakeRequested.set(false);
            }
        }
    }

    private void schedule(long delay) {
        if (ctx.running()) {
            executor.schedule(this::loop, delay, TimeUnit.MILLISECONDS);
        }
    }

    private void loop() {
        cycleSafely();
        long delay;
        try {
            delay = nextDelay();
        } catch (RuntimeException e) {
            // the store is out of reach (a database outage): the loop goes on, and so does the engine once it is back
            LOG.debug("Batch engine '{}': cannot plan the next cycle: {}", store.name(), e.toString());
            delay = Math.max(20, Math.min(config.pollInterval, 1_000));
        }
        schedule(delay);
    }

    private long nextDelay() {
        long now = System.currentTimeMillis();
        long d = Math.min(Math.max(20, ctx.nextPollAt - now), 1_000);
        for (SegmentInfo s : store.segments()) {
            if (s.getStatus() == SegmentStatus.OPEN) {
                long maxAge = s.getMaxAgeMillis() != null ? s.getMaxAgeMillis() : config.batchTimeout;
                if (maxAge > 0) {
                    d = Math.min(d, Math.max(20, s.getCreatedAt() + maxAge - now));
                }
            } else if (s.getStatus() == SegmentStatus.SEALED && s.getNotBefore() != null) {
                d = Math.min(d, Math.max(20, s.getNotBefore() - now));
            } else if (s.getStatus() == SegmentStatus.FINISHED) {
                d = Math.min(d, Math.max(20, ctx.nextEmitAt - now));
            }
        }
        return d;
    }

    private synchronized void cycleSafely() {
        wakeRequested.set(false);
        if (!ctx.running()) {
            return;
        }
        try {
            cycle();
        } catch (RuntimeException | IOException e) {
            LOG.warn("Batch engine '{}': cycle failed, will retry: {}", store.name(), e.toString());
            LOG.debug("Cycle failure", e);
        }
    }

    /** One pass of the state machine; public for tests that step the engine by hand. */
    public void cycle() throws IOException {
        ctx.leases.renewIfDue();
        long now = System.currentTimeMillis();
        for (String id : store.sealOpen(s -> {
            long maxAge = s.getMaxAgeMillis() != null ? s.getMaxAgeMillis() : config.batchTimeout;
            return maxAge > 0 && now - s.getCreatedAt() >= maxAge;
        }, SealReason.BATCH_TIMEOUT)) {
            ctx.fire(BatchEvent.Type.SEALED, store.segment(id), null, "sealed by batchTimeout");
        }
        submissions.submitPending();
        if (System.currentTimeMillis() >= ctx.nextPollAt) {
            poller.poll();
        }
        if (System.currentTimeMillis() >= ctx.nextEmitAt) {
            emitter.emitFinished();
        }
        if (!ctx.pendingDeletes.isEmpty()) {
            cleanup.deletePending();
        }
    }

    @Override
    public void close() {
        stop();
    }

    public void stop() {
        if (!ctx.running.compareAndSet(true, false)) {
            return;
        }
        threads.shutdownGraceful(executor, 30_000);
        // a download ahead stops at its next read (its file is fetched again after a restart)
        downloads.stopping();
        threads.shutdownNow(downloader);
        threads.shutdownGraceful(downloader, 10_000);
        downloads.stopped();
        // the engine thread is done: no batch is created behind the cancellations below
        if (config.cancelOnStop) {
            for (SegmentInfo s : store.segments()) {
                // with several nodes, only the batches this node drives
                if (s.getStatus() == SegmentStatus.SUBMITTED && ctx.leases.holds(s.getId())) {
                    try {
                        ctx.provider.cancel(s.getBatchId());
                        LOG.info("Batch engine '{}': cancelled batch {} on stop", store.name(), s.getBatchId());
                    } catch (RuntimeException e) {
                        LOG.warn("Cannot cancel batch {} on stop: {}", s.getBatchId(), e.getMessage());
                    }
                }
            }
        }
        // the other nodes take this node's segments over at once (not only once the leases expire)
        ctx.leases.releaseAll();
        LOG.info("Batch engine '{}' stopped; every batch is resumable", store.name());
    }
}
