package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchError;
import dev.camelbatch.openaibatch.api.BatchList;
import dev.camelbatch.openaibatch.api.OpenAIApiException;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the segments of one endpoint name through their life: seals open segments by age, submits sealed ones
 * (upload, create, each step recorded, reconciled after a crash), polls the batches in flight with one list call per
 * cycle, downloads the output and error files of finished batches, emits one line at a time to the {@link LineSink}
 * with a checkpoint after each, resubmits what may be retried, and cleans up.
 * <p>
 * Everything runs on one thread per engine, so the state of a segment is never changed concurrently by the engine.
 */
public class BatchEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);
    public static final String META_NAME = Submitter.META_NAME;
    public static final String META_SEGMENT = Submitter.META_SEGMENT;
    public static final String META_ATTEMPT = Submitter.META_ATTEMPT;
    private static final int LIST_PAGE = 100;
    private static final Set<String> RETRYABLE_LINE_CODES = Set.of("batch_expired", "request_timeout",
            "rate_limit_exceeded", "server_error", "internal_error");
    private static final Set<String> QUOTA_CODES = Set.of("token_limit_exceeded", "request_limit_exceeded",
            "enqueued_token_limit_exceeded", "billing_hard_limit_reached");

    private final BatchStore store;
    private final OpenAIBatchClient client;
    private final EngineConfig config;
    private final LineSink sink;
    private final EngineListener listener;
    private final ObjectMapper mapper;
    private final Path workDir;
    /** Line counts and custom ids of output files, read while they were downloaded (until emission takes them). */
    private final Map<Path, LineIdScanner> scans = new ConcurrentHashMap<>();
    /**
     * Output files being downloaded ahead, by segment id: while one finished segment's lines go out, the next one's
     * output file comes in on a thread of its own (one at a time, single node only), so that emitting one batch after
     * another does not stop for every download.
     */
    private final Map<String, Future<Path>> downloadsAhead = new ConcurrentHashMap<>();
    private ExecutorService downloader;
    /** Counts the engine's stops: a download ahead started before a stop never completes after it. */
    private volatile long generation;
    private final EngineStats stats = new EngineStats();
    /** Leases on the segments this node drives (stores shared by several nodes; every claim succeeds otherwise). */
    private final SegmentLeases leases;

    private ScheduledExecutorService executor;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean wakeRequested = new AtomicBoolean();
    private final SubmissionCalls calls;
    private final Submitter submitter;
    private final Map<String, Long> lastProgressLog = new HashMap<>();
    private final Map<String, Long> stuckReported = new HashMap<>();
    /** Per model: lowered concurrency after a quota failure, until a batch of that model completes. */
    private final Map<String, Integer> modelConcurrency = new HashMap<>();
    private long currentPollInterval;
    private long nextPollAt;
    private long nextEmitAt;
    private volatile String authProblem;
    private long nextAuthProbeAt;

    public BatchEngine(BatchStore store, OpenAIBatchClient client, EngineConfig config, LineSink sink,
                       EngineListener listener, ObjectMapper mapper, Path workDir) {
        this.store = store;
        this.client = client;
        this.config = config;
        this.sink = sink;
        this.listener = listener != null ? listener : e -> {
        };
        this.mapper = mapper;
        this.workDir = workDir;
        this.currentPollInterval = config.pollInterval;
        this.leases = new SegmentLeases(store, config.nodeId != null && !config.nodeId.isBlank() ? config.nodeId
                : SegmentLeases.defaultNodeId(), config.leaseDuration);
        this.calls = new SubmissionCalls(client, store.name(), stats);
        // the lease is confirmed right before each upload and create: a node paused past its lease makes nothing
        this.submitter = new Submitter(store, calls, config.completionWindow, config.inputFileExpiresAfter,
                s -> leases.confirm(s.getId()));
    }

    public BatchStore store() {
        return store;
    }

    public EngineStats stats() {
        return stats;
    }

    /** The last authentication problem (401/403), or {@code null} when the key works. */
    public String authProblem() {
        return authProblem;
    }

    public synchronized void start() throws IOException {
        if (running.get()) {
            return;
        }
        PrivateFiles.createDirectories(workDir);
        running.set(true);
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "openai-batch-engine-" + store.name());
            t.setDaemon(true);
            return t;
        });
        ex.setRemoveOnCancelPolicy(true);
        // on stop, the next cycle waiting in the queue is dropped rather than waited for
        ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor = ex;
        downloader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "openai-batch-download-" + store.name());
            t.setDaemon(true);
            return t;
        });
        leases.start();
        schedule(0);
        LOG.info("Batch engine '{}' started (poll {}..{} ms, maxInFlightBatches={})", store.name(),
                config.pollInterval, config.maxPollInterval, config.maxInFlightBatches);
    }

    /** Asks for a cycle soon (a segment was sealed, a flush was requested). */
    public void wakeUp() {
        if (running.get() && wakeRequested.compareAndSet(false, true)) {
            try {
                executor.execute(this::cycleSafely);
            } catch (RuntimeException e) {
                wakeRequested.set(false);
            }
        }
    }

    private void schedule(long delay) {
        if (running.get()) {
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
        long d = Math.min(Math.max(20, nextPollAt - now), 1_000);
        for (SegmentInfo s : store.segments()) {
            if (s.getStatus() == SegmentStatus.OPEN) {
                long maxAge = s.getMaxAgeMillis() != null ? s.getMaxAgeMillis() : config.batchTimeout;
                if (maxAge > 0) {
                    d = Math.min(d, Math.max(20, s.getCreatedAt() + maxAge - now));
                }
            } else if (s.getStatus() == SegmentStatus.SEALED && s.getNotBefore() != null) {
                d = Math.min(d, Math.max(20, s.getNotBefore() - now));
            } else if (s.getStatus() == SegmentStatus.FINISHED) {
                d = Math.min(d, Math.max(20, nextEmitAt - now));
            }
        }
        return d;
    }

    private synchronized void cycleSafely() {
        wakeRequested.set(false);
        if (!running.get()) {
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
        leases.renewIfDue();
        long now = System.currentTimeMillis();
        for (String id : store.sealOpen(s -> {
            long maxAge = s.getMaxAgeMillis() != null ? s.getMaxAgeMillis() : config.batchTimeout;
            return maxAge > 0 && now - s.getCreatedAt() >= maxAge;
        }, "batchTimeout")) {
            fire(BatchEvent.Type.SEALED, store.segment(id), null, "sealed by batchTimeout");
        }
        submitPending();
        if (System.currentTimeMillis() >= nextPollAt) {
            poll();
        }
        if (System.currentTimeMillis() >= nextEmitAt) {
            emitFinished();
        }
        if (!pendingDeletes.isEmpty()) {
            deletePending();
        }
    }

    // ---------------------------------------------------------------- submission

    private void submitPending() {
        if (authProblem != null && !probeAuth()) {
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
            if (!running.get() || authProblem != null) {
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
            Integer lowered = modelConcurrency.get(s.getModel());
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
            client.listBatches(null, 1);
            LOG.info("Batch engine '{}': the API accepts the key again; resuming submissions", store.name());
            authProblem = null;
            return true;
        } catch (OpenAIApiException e) {
            if (e.getHttpStatus() == 401 || e.getHttpStatus() == 403) {
                return false;
            }
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void advanceSubmission(SegmentInfo s) {
        try {
            Batch batch = submitter.submit(s, false);
            currentPollInterval = config.pollInterval;
            nextPollAt = Math.min(nextPollAt, System.currentTimeMillis() + config.pollInterval);
            LOG.info("Batch engine '{}': submitted segment {} ({} requests, model {}) as batch {}", store.name(),
                    s.getId(), s.getRequestCount(), s.getModel(), batch.getId());
            fire(BatchEvent.Type.SUBMITTED, s, batch, "submitted");
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
        if (e instanceof OpenAIApiException api && (api.getHttpStatus() == 401 || api.getHttpStatus() == 403)) {
            keyRefused(api);
            return;
        }
        int failures = s.getSubmitFailures() + 1;
        long delay = Math.min(config.maxSubmitRetryDelay, config.submitRetryDelay * (1L << Math.min(20, failures - 1)));
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

    /** Records a 401/403: logged at ERROR once, until the key works again (see {@link #probeAuth()}). */
    private void keyRefused(OpenAIApiException api) {
        if (authProblem == null) {
            LOG.error("Batch engine '{}': the API refused the key ({}): submissions stop until it works again;"
                      + " nothing spooled is lost", store.name(), api.getHttpStatus());
        }
        authProblem = api.getHttpStatus() + " " + api.getMessage();
    }

    // ---------------------------------------------------------------- polling

    private void poll() {
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
            nextPollAt = System.currentTimeMillis() + config.pollInterval;
            currentPollInterval = config.pollInterval;
            return;
        }
        stats.pollCycles.incrementAndGet();
        Map<String, SegmentInfo> byBatch = new HashMap<>();
        long oldest = Long.MAX_VALUE;
        for (SegmentInfo s : inFlight) {
            byBatch.put(s.getBatchId(), s);
            if (s.getBatchCreatedAt() != null) {
                oldest = Math.min(oldest, s.getBatchCreatedAt());
            } else {
                oldest = Long.MIN_VALUE;
            }
        }
        Map<String, Batch> seen = new HashMap<>();
        boolean changed = false;
        try {
            String after = null;
            int pages = 0;
            while (seen.size() < byBatch.size()) {
                if (pages++ == config.maxListPages) {
                    // the batches not seen yet are asked for one by one below
                    LOG.warn("Batch engine '{}': the batch list still had more after {} pages; polling the batches"
                             + " not seen one by one", store.name(), config.maxListPages);
                    break;
                }
                BatchList page = client.listBatches(after, LIST_PAGE);
                stats.pollCalls.incrementAndGet();
                List<Batch> data = page.getData() != null ? page.getData() : List.of();
                boolean pastOldest = false;
                for (Batch b : data) {
                    if (byBatch.containsKey(b.getId())) {
                        seen.put(b.getId(), b);
                    }
                    if (b.getCreatedAt() != null && b.getCreatedAt() < oldest) {
                        pastOldest = true;
                    }
                }
                if (!Boolean.TRUE.equals(page.getHasMore()) || data.isEmpty() || pastOldest) {
                    break;
                }
                after = data.get(data.size() - 1).getId();
            }
            for (SegmentInfo s : inFlight) {
                if (!seen.containsKey(s.getBatchId())) {
                    seen.put(s.getBatchId(), client.retrieveBatch(s.getBatchId()));
                    stats.pollCalls.incrementAndGet();
                }
            }
        } catch (OpenAIApiException e) {
            if (e.getHttpStatus() == 401 || e.getHttpStatus() == 403) {
                keyRefused(e);
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
            currentPollInterval = config.pollInterval;
        } else {
            backOffPolling(null);
            return;
        }
        nextPollAt = System.currentTimeMillis() + currentPollInterval;
    }

    private void backOffPolling(Long hint) {
        currentPollInterval = Math.min(config.maxPollInterval, Math.max(config.pollInterval,
                (long) (currentPollInterval * 1.5)));
        long delay = hint != null ? Math.max(hint, currentPollInterval) : currentPollInterval;
        nextPollAt = System.currentTimeMillis() + delay;
    }

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
        String status = b.getStatus() != null ? b.getStatus() : "";
        switch (status) {
            case "completed", "expired", "cancelled", "failed" -> {
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
                if ("failed".equals(status)) {
                    handleFailedBatch(s, b);
                    return true;
                }
                s.setStatus(SegmentStatus.FINISHED);
                store.update(s);
                if ("completed".equals(status)) {
                    modelConcurrency.remove(s.getModel());
                }
                stuckReported.remove(s.getId());
                LOG.info("Batch engine '{}': batch {} {} ({} completed, {} failed of {})", store.name(), b.getId(),
                        status, s.getCompleted(), s.getFailed(), s.getTotal());
                fire(switch (status) {
                    case "completed" -> BatchEvent.Type.COMPLETED;
                    case "expired" -> BatchEvent.Type.EXPIRED;
                    default -> BatchEvent.Type.CANCELLED;
                }, s, b, status);
                nextEmitAt = 0;
                return true;
            }
            default -> {
                if (changed) {
                    store.update(s);
                    Long last = lastProgressLog.get(s.getId());
                    if (last == null || now - last >= config.progressLogInterval) {
                        lastProgressLog.put(s.getId(), now);
                        LOG.info("Batch engine '{}': batch {} {} {}/{} done, {} failed", store.name(), b.getId(),
                                status, s.getCompleted(), s.getTotal(), s.getFailed());
                    }
                    fire(BatchEvent.Type.PROGRESS, s, b, status);
                }
                checkStuck(s, b, now);
                return changed;
            }
        }
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
        fire(BatchEvent.Type.STUCK, s, b, "no progress for " + (now - since) / 1000 + " s");
        if (config.cancelStuckBatches) {
            try {
                client.cancelBatch(s.getBatchId());
                LOG.warn("Batch engine '{}': cancelled stuck batch {}; its unfinished requests will be resubmitted",
                        store.name(), s.getBatchId());
                stuckCancelled.add(s.getBatchId());
                s.setLastError(STUCK_CANCELLED);
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

    private final Set<String> stuckCancelled = new HashSet<>();
    /** lastError of a segment whose batch the engine cancelled as stuck (persisted, so it survives a restart). */
    private static final String STUCK_CANCELLED = "cancelled by the engine as stuck";
    /** Remote files whose deletion failed outside of {@link #finish}; tried again each cycle (in memory only). */
    private final Set<String> pendingDeletes = new HashSet<>();
    /** Failed attempts to delete the remote files of a finished segment, by segment id. */
    private final Map<String, Integer> deleteFailures = new HashMap<>();
    private static final int MAX_DELETE_ATTEMPTS = 20;

    private void handleFailedBatch(SegmentInfo s, Batch b) throws IOException {
        List<BatchError> errors = b.getErrors() != null && b.getErrors().getData() != null
                ? b.getErrors().getData() : List.of();
        String summary = summarize(errors);
        boolean quota = errors.stream().anyMatch(e -> e.getCode() != null && QUOTA_CODES.contains(e.getCode()));
        boolean lineErrors = !errors.isEmpty() && errors.stream().allMatch(e -> e.getLine() != null);
        fire(BatchEvent.Type.FAILED, s, b, summary);
        if (!deleteQuietly(s.getInputFileId())) {
            pendingDeletes.add(s.getInputFileId());
        }
        s.setBatchFailures(s.getBatchFailures() + 1);
        if (quota) {
            s.setQuotaFailures(s.getQuotaFailures() + 1);
            int current = (int) store.segments().stream().filter(x -> x.getStatus().isInFlight()
                    && s.getModel().equals(x.getModel())).count();
            modelConcurrency.put(s.getModel(), Math.max(1, current - 1));
            resetForResubmission(s, "quota: " + summary, s.getQuotaFailures());
            LOG.warn("Batch engine '{}': batch {} failed on a quota ({}); segment {} waits and is resubmitted, at most"
                     + " {} batch(es) of {} in flight until one completes", store.name(), b.getId(), summary,
                    s.getId(), modelConcurrency.get(s.getModel()), s.getModel());
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
            s.setStatus(SegmentStatus.FINISHED);
            s.setBatchStatus("failed");
            s.setOutputFileId(null);
            s.setErrorFileId(null);
            pendingSynthetic.put(s.getId(), new SyntheticPlan(byLine, "invalid_request_line"));
            store.update(s);
            if (!rest.isEmpty()) {
                SegmentInfo retry = createRetrySegment(s, rest, s.getAttempt());
                LOG.warn("Batch engine '{}': batch {} failed on {} line(s); {} other requests resubmitted as segment {}",
                        store.name(), b.getId(), byLine.size(), rest.size(), retry.getId());
            }
            nextEmitAt = 0;
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
        s.setStatus(SegmentStatus.FINISHED);
        s.setOutputFileId(null);
        s.setErrorFileId(null);
        pendingSynthetic.put(s.getId(), new SyntheticPlan(null, "batch_failed"));
        store.update(s);
        nextEmitAt = 0;
    }

    private record SyntheticPlan(Map<Long, String> onlyLines, String code) {
    }

    /** Failed batches whose requests come out as synthetic errors (rebuilt from lastError after a restart). */
    private final Map<String, SyntheticPlan> pendingSynthetic = new HashMap<>();

    private void resetForResubmission(SegmentInfo s, String reason, int failures) throws IOException {
        long delay = Math.min(config.maxSubmitRetryDelay,
                config.submitRetryDelay * (1L << Math.min(20, Math.max(1, failures) - 1)));
        s.setSubmitFailures(0);
        s.setStatus(SegmentStatus.SEALED);
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
        fire(BatchEvent.Type.RESUBMITTED, s, null, reason);
    }

    private SegmentInfo createRetrySegment(SegmentInfo parent, List<SpoolRecord> records, int attempt)
            throws IOException {
        Map<String, byte[]> carried = store.carriedHeaders(parent.getId());
        List<SpoolRecord> withHeaders = new ArrayList<>(records.size());
        for (SpoolRecord r : records) {
            withHeaders.add(new SpoolRecord(r.customId(), r.line(), carried.get(r.customId()), r.tokens()));
        }
        SegmentInfo retry = store.createSealedSegment(parent.getEndpoint(), parent.getModel(), attempt,
                parent.getId(), withHeaders);
        stats.requestsResubmitted.addAndGet(records.size());
        fire(BatchEvent.Type.RESUBMITTED, retry, null, records.size() + " requests of " + parent.getId());
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

    // ---------------------------------------------------------------- emission

    private void emitFinished() {
        List<SegmentInfo> finished = new ArrayList<>();
        for (SegmentInfo listed : store.segments()) {
            if (listed.getStatus() == SegmentStatus.FINISHED) {
                finished.add(listed);
            }
        }
        for (int i = 0; i < finished.size(); i++) {
            if (!running.get()) {
                return;
            }
            // the node that holds the lease emits (from the checkpoint, after a takeover)
            SegmentInfo s = leases.claim(finished.get(i));
            if (s == null || s.getStatus() != SegmentStatus.FINISHED) {
                continue;
            }
            if (i + 1 < finished.size()) {
                downloadAhead(finished.get(i + 1));
            }
            try {
                if (!emit(s)) {
                    // the route failed a line, or a remote file could not be deleted: try again later, from the
                    // checkpoint
                    nextEmitAt = System.currentTimeMillis() + config.pollInterval;
                    return;
                }
            } catch (IOException | RuntimeException e) {
                if (e instanceof StoppedException) {
                    // the engine stops: emission goes on from the checkpoint after the restart
                    return;
                }
                if (e instanceof LeaseLostException) {
                    // another node took the segment over and emits from the last checkpoint
                    leases.forget(s.getId());
                }
                LOG.warn("Batch engine '{}': emitting batch {} failed ({}); will retry", store.name(), s.getBatchId(),
                        e.toString());
                LOG.debug("Emission failure", e);
                nextEmitAt = System.currentTimeMillis() + config.pollInterval;
                return;
            }
        }
    }

    /** Emits every remaining line of a finished segment; false when the sink refused a line. */
    private boolean emit(SegmentInfo s) throws IOException {
        if (s.isDelivered()) {
            // every line was delivered before a restart (or on another node): only the clean-up is left, and the
            // remote files may be gone already
            return finish(s, null, null);
        }
        Path out = s.getOutputFileId() != null ? download(s, s.getOutputFileId(), "out") : null;
        Path err;
        try {
            err = s.getErrorFileId() != null ? download(s, s.getErrorFileId(), "err") : null;
        } catch (IOException | RuntimeException e) {
            // the output file is read again next time: its ids are not held meanwhile
            if (out != null) {
                scans.remove(out);
            }
            throw e;
        }
        boolean retryUnfinished = "expired".equals(s.getBatchStatus()) || stuckCancelled.contains(s.getBatchId())
                                  || STUCK_CANCELLED.equals(s.getLastError());
        Set<String> toRetry = new HashSet<>();
        // the requests that a line answers, as 8-byte hashes of their custom ids
        CustomIdSet answered;
        long outputLines = 0;
        if (out != null) {
            // counted and read for custom ids while it was downloaded; after a restart, from the file
            LineIdScanner scan = scans.remove(out);
            if (scan == null) {
                scan = LineIdScanner.scan(out, mapper, SegmentLimits.HARD_MAX_BYTES, s.getRequestCount());
            }
            outputLines = scan.lines();
            answered = scan.ids();
        } else {
            answered = new CustomIdSet(1024);
        }
        // first pass over the error file: requests to resubmit (once: the retry segment records its parent)
        long errorsToEmit = 0;
        // which requests the error file answers: in request order, a line is an error line by where it came from
        CustomIdSet errorFileIds = new CustomIdSet(16);
        if (err != null) {
            try (InputStream in = Files.newInputStream(err)) {
                LineReader r = new LineReader(in, 1 << 16, SegmentLimits.HARD_MAX_BYTES);
                byte[] line;
                while ((line = r.next()) != null) {
                    OutputLine p = parse(line);
                    if (p.customId() != null) {
                        answered.add(p.customId());
                        errorFileIds.add(p.customId());
                    }
                    if (p.customId() != null && s.getAttempt() < config.maxAttempts
                            && isRetryable(p, retryUnfinished)) {
                        toRetry.add(p.customId());
                    } else {
                        errorsToEmit++;
                    }
                }
            }
        }
        SyntheticPlan plan = pendingSynthetic.get(s.getId());
        if (plan == null && "failed".equals(s.getBatchStatus()) && s.getOutputFileId() == null
                && s.getErrorFileId() == null) {
            plan = new SyntheticPlan(null, "batch_failed");
        }
        if (plan == null && answered.size() < s.getRequestCount()) {
            // requests that neither file answers (a batch cancelled or expired before they ran may leave them out
            // of both, a line may be cut or garbled): resubmitted like the unfinished ones, or reported; never
            // dropped
            plan = unanswered(s, answered, retryUnfinished, toRetry);
        }
        if (!toRetry.isEmpty() && !hasRetryChild(s)) {
            List<SpoolRecord> records = new ArrayList<>(toRetry.size());
            store.readRequests(s.getId(), line -> {
                String id = RequestLines.customId(mapper, line);
                if (toRetry.contains(id)) {
                    records.add(new SpoolRecord(id, line, null, 0));
                }
            });
            SegmentInfo retry = createRetrySegment(s, records, s.getAttempt() + 1);
            LOG.info("Batch engine '{}': {} requests of batch {} resubmitted as attempt {} (segment {})", store.name(),
                    records.size(), s.getBatchId(), retry.getAttempt(), retry.getId());
        }
        long syntheticCount = plan == null ? 0 : plan.onlyLines != null ? plan.onlyLines.size() : s.getRequestCount();
        long size = outputLines + errorsToEmit + syntheticCount;
        Map<String, byte[]> carried = store.carriedHeaders(s.getId());
        long[] emitted = { s.getEmittedOutput(), s.getEmittedErrors(), s.getEmittedSynthetic() };
        Path ordered = workDir.resolve(s.getId() + ".ordered.jsonl");
        // in order when asked before this batch's emission began, or when its emission began in order (here or on
        // another node; the checkpoint says so): a checkpoint counts lines of one sequence or the other, never a mix
        boolean marked = emitted[1] == SegmentInfo.EMITTED_IN_ORDER;
        boolean fresh = emitted[0] == 0 && emitted[1] == 0 && emitted[2] == 0;
        boolean inOrder = marked || (fresh && config.emitInOrder && (out != null || err != null));
        if (inOrder) {
            if (!Files.exists(ordered)) {
                // the sort is deterministic and keeps every line (retried ones are skipped while emitting, below),
                // so sorting again after a restart or on another node gives the same sequence for the checkpoint
                sortByRequestOrder(s, out, err, ordered);
            }
            if (!marked) {
                // the mode is recorded before the first line goes out
                emitted[1] = SegmentInfo.EMITTED_IN_ORDER;
                store.checkpoint(s.getId(), emitted[0], emitted[1], emitted[2]);
            }
            // the sorted file mixes both files' lines
            if (!emitLines(s, ordered, EmittedLine.Kind.RESULT, carried, emitted, 0, 0, size,
                    toRetry.isEmpty() ? null : toRetry, errorFileIds)) {
                return false;
            }
        } else {
            // a sorted file that the checkpoint does not use (left by a crash before the mode was recorded, or by a
            // run with the other setting): the checkpoint decides
            deleteSorted(s);
            if (out != null
                && !emitLines(s, out, EmittedLine.Kind.RESULT, carried, emitted, 0, 0, size, null, null)) {
                return false;
            }
            if (err != null && !emitLines(s, err, EmittedLine.Kind.ERROR, carried, emitted, 1, outputLines, size,
                    toRetry, null)) {
                return false;
            }
        }
        if (plan != null && !emitSynthetic(s, plan, carried, emitted, outputLines + errorsToEmit, size)) {
            return false;
        }
        return finish(s, out, err);
    }

    /**
     * The requests of a finished segment that no line of its output or error file answers: added to {@code toRetry}
     * when unfinished requests are resubmitted (expired, cancelled as stuck) and attempts are left, else a plan to
     * report them as errors.
     */
    private SyntheticPlan unanswered(SegmentInfo s, CustomIdSet answered, boolean retryUnfinished,
            Set<String> toRetry) throws IOException {
        String status = s.getBatchStatus() != null ? s.getBatchStatus() : "";
        boolean retry = retryUnfinished && s.getAttempt() < config.maxAttempts;
        String code;
        String message;
        switch (status) {
            case "expired" -> {
                code = "batch_expired";
                message = "This request was not executed before the batch expired (no line in its output or error"
                          + " file)";
            }
            case "cancelled" -> {
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

    private boolean hasRetryChild(SegmentInfo s) {
        for (SegmentInfo x : store.segments()) {
            if (s.getId().equals(x.getParentId())) {
                return true;
            }
        }
        for (SegmentInfo x : store.history(200)) {
            if (s.getId().equals(x.getParentId())) {
                return true;
            }
        }
        return false;
    }

    /** Writes the output and error lines of a segment, in the order of its requests, to {@code target}. */
    private void sortByRequestOrder(SegmentInfo s, Path out, Path err, Path target) throws IOException {
        long started = System.nanoTime();
        deleteSorted(s);
        // the position of each request: bounded by the requests of one batch (at most 50 000 for OpenAI)
        Map<String, Integer> ordinals = new HashMap<>((int) Math.min(1 << 20, s.getRequestCount() * 2 + 16));
        int[] n = { 0 };
        store.readRequests(s.getId(), line -> ordinals.putIfAbsent(RequestLines.customId(mapper, line), n[0]++));
        List<Path> inputs = new ArrayList<>(2);
        if (out != null) {
            inputs.add(out);
        }
        if (err != null) {
            inputs.add(err);
        }
        long lines = new InputOrderSorter(mapper, ordinals, config.sortRunBytes, SegmentLimits.HARD_MAX_BYTES)
                .sort(inputs, target);
        LOG.debug("Batch engine '{}': {} lines of batch {} sorted into request order in {} ms", store.name(), lines,
                s.getBatchId(), (System.nanoTime() - started) / 1_000_000);
    }

    /** Deletes a segment's sorted file and whatever a sort cut short left beside it (parts, runs). */
    private void deleteSorted(SegmentInfo s) throws IOException {
        String prefix = s.getId() + ".ordered.jsonl";
        try (var files = Files.newDirectoryStream(workDir, prefix + "*")) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
    }

    /**
     * Emits the lines of one file from the checkpoint in {@code emitted[slot]}. {@code kind} is the file's (a result
     * line that reports an error is an error too); for the sorted file, which mixes both, {@code errorFileIds} names
     * the requests whose line came from the error file.
     */
    private boolean emitLines(SegmentInfo s, Path file, EmittedLine.Kind kind, Map<String, byte[]> carried,
            long[] emitted, int slot, long base, long size, Set<String> retried, CustomIdSet errorFileIds)
            throws IOException {
        long done = emitted[slot];
        long retriedSoFar = 0;
        // lines up to the checkpoint are skipped unparsed, unless retried lines must be counted to place the rest
        long skipThrough = retried == null ? done : 0;
        try (ParsedLineReader r = ParsedLineReader.open(file, SegmentLimits.HARD_MAX_BYTES, mapper, skipThrough,
                parseAhead(file) ? "openai-batch-parse-" + store.name() : null)) {
            ParsedLineReader.Entry e;
            while ((e = r.next()) != null) {
                long n = e.number();
                OutputLine p = e.line();
                byte[] line = p.raw();
                boolean isRetried = retried != null && p.customId() != null && retried.contains(p.customId());
                if (isRetried) {
                    retriedSoFar++;
                }
                if (n <= done) {
                    continue;
                }
                if (!running.get()) {
                    return false;
                }
                if (!isRetried) {
                    long index = base + (n - 1 - retriedSoFar);
                    String errorCode = p.errorCode();
                    EmittedLine.Kind fileKind = errorFileIds != null && p.customId() != null
                                                && errorFileIds.contains(p.customId()) ? EmittedLine.Kind.ERROR : kind;
                    EmittedLine.Kind k = !p.isObject() ? EmittedLine.Kind.SYNTHETIC_ERROR
                            : (fileKind == EmittedLine.Kind.RESULT && errorCode != null ? EmittedLine.Kind.ERROR
                                    : fileKind);
                    EmittedLine el = new EmittedLine(k, s, p.customId(), line, p, p.statusCode(),
                            !p.isObject() ? "unparsable_output_line" : errorCode,
                            !p.isObject() ? "The output line is not valid JSON: " + p.parseError() : p.errorMessage(),
                            p.customId() != null && !carried.isEmpty() ? carried.get(p.customId()) : null,
                            Math.min(index, size - 1), size);
                    if (!sink.deliver(el)) {
                        return false;
                    }
                    if (el.isError()) {
                        stats.errorLinesEmitted.incrementAndGet();
                    } else {
                        stats.resultLinesEmitted.incrementAndGet();
                    }
                }
                emitted[slot] = n;
                store.checkpoint(s.getId(), emitted[0], emitted[1], emitted[2]);
            }
        }
        return true;
    }

    /**
     * Whether a file is worth parsing on a second thread while this one delivers: with more than one processor and
     * more than a few megabytes (for small files a thread costs more than it saves).
     */
    private static boolean parseAhead(Path file) throws IOException {
        return PARSE_AHEAD_CPUS > 1 && Files.size(file) >= PARSE_AHEAD_MIN_BYTES;
    }

    private static final int PARSE_AHEAD_CPUS = Runtime.getRuntime().availableProcessors();
    private static final long PARSE_AHEAD_MIN_BYTES = Long.getLong("openai-batch.parseAheadMinBytes", 4L << 20);

    private boolean emitSynthetic(SegmentInfo s, SyntheticPlan plan, Map<String, byte[]> carried, long[] emitted,
            long base, long size) throws IOException {
        long done = emitted[2];
        long[] n = { 0 };
        long[] selected = { 0 };
        boolean[] ok = { true };
        IOException[] failure = { null };
        store.readRequests(s.getId(), line -> {
            if (!ok[0]) {
                return;
            }
            n[0]++;
            if (plan.onlyLines != null && !plan.onlyLines.containsKey(n[0])) {
                return;
            }
            long ordinal = plan.onlyLines != null ? ++selected[0] : n[0];
            if (ordinal <= done) {
                return;
            }
            String id = RequestLines.customId(mapper, line);
            String msg = plan.onlyLines != null ? plan.onlyLines.get(n[0])
                    : "The batch failed: " + (s.getLastError() != null ? s.getLastError() : "no details");
            ObjectNode synthetic = mapper.createObjectNode();
            synthetic.put("id", (String) null);
            synthetic.put("custom_id", id);
            synthetic.putNull("response");
            ObjectNode error = synthetic.putObject("error");
            error.put("code", plan.code);
            error.put("message", msg);
            long index = base + ordinal - 1;
            byte[] raw;
            try {
                raw = mapper.writeValueAsBytes(synthetic);
            } catch (IOException e) {
                failure[0] = e;
                ok[0] = false;
                return;
            }
            EmittedLine el = new EmittedLine(EmittedLine.Kind.SYNTHETIC_ERROR, s, id, raw,
                    OutputLine.of(synthetic, raw, mapper), null, plan.code,
                    msg, carried.get(id), Math.min(index, size - 1), size);
            if (!sink.deliver(el)) {
                ok[0] = false;
                return;
            }
            stats.errorLinesEmitted.incrementAndGet();
            emitted[2] = ordinal;
            try {
                store.checkpoint(s.getId(), emitted[0], emitted[1], emitted[2]);
            } catch (IOException e) {
                failure[0] = e;
                ok[0] = false;
            }
        });
        if (failure[0] != null) {
            throw failure[0];
        }
        return ok[0];
    }

    /** Cleans up and completes a segment; false when a remote file could not be deleted yet (tried again later). */
    private boolean finish(SegmentInfo s, Path out, Path err) throws IOException {
        if (!s.isDelivered()) {
            // recorded before any file is deleted, so that whoever resumes this segment does not download again
            s.setDelivered(true);
            store.update(s);
        }
        if (config.deleteFiles) {
            boolean deleted = deleteQuietly(s.getInputFileId());
            deleted &= deleteQuietly(s.getOutputFileId());
            deleted &= deleteQuietly(s.getErrorFileId());
            if (!deleted) {
                int failures = deleteFailures.merge(s.getId(), 1, Integer::sum);
                if (failures < MAX_DELETE_ATTEMPTS) {
                    // the segment stays FINISHED (every line delivered, the checkpoint says so) until they are gone
                    return false;
                }
                LOG.warn("Batch engine '{}': giving up deleting the remote files of batch {} after {} attempts;"
                         + " delete {}, {} and {} by hand", store.name(), s.getBatchId(), failures,
                        s.getInputFileId(), s.getOutputFileId(), s.getErrorFileId());
            }
            deleteFailures.remove(s.getId());
        }
        pendingSynthetic.remove(s.getId());
        stuckCancelled.remove(s.getBatchId());
        lastProgressLog.remove(s.getId());
        SegmentInfo latest = store.segment(s.getId());
        store.complete(latest != null ? latest : s);
        // the local copies go last: a crash before complete() finds them again, so a restart never has to download
        // files that were already deleted remotely
        deleteSorted(s);
        scans.remove(workDir.resolve(s.getId() + ".out.jsonl"));
        downloadsAhead.remove(s.getId());
        if (out != null) {
            Files.deleteIfExists(out);
        }
        // an unfinished download left by a crash (the file may have come in the other way afterwards)
        Files.deleteIfExists(workDir.resolve(s.getId() + ".out.jsonl.part"));
        Files.deleteIfExists(workDir.resolve(s.getId() + ".out.jsonl.ahead"));
        if (err != null) {
            Files.deleteIfExists(err);
        }
        leases.forget(s.getId());
        stats.batchesDone.incrementAndGet();
        fire(BatchEvent.Type.DONE, s, null, "all lines delivered");
        return true;
    }

    /** Deletes a remote file; true when it is gone (deleted now, or not found), false when it may still exist. */
    private boolean deleteQuietly(String fileId) {
        return calls.deleteQuietly(fileId);
    }

    private void deletePending() {
        pendingDeletes.removeIf(fileId -> running.get() && deleteQuietly(fileId));
    }

    /**
     * Starts downloading the output file of a finished segment that is emitted next, unless one download ahead is
     * already held or running (one at a time), the file is here, or this node does not drive every segment (with
     * leases, another node may emit it). Needs a second pooled connection: the engine's own calls go on meanwhile.
     */
    private void downloadAhead(SegmentInfo next) {
        if (leases.enabled() || client.getConfig().getMaxConnections() < 2 || !downloadsAhead.isEmpty()
                || next.isDelivered() || next.getOutputFileId() == null
                || Files.exists(workDir.resolve(next.getId() + ".out.jsonl"))) {
            return;
        }
        String fileId = next.getOutputFileId();
        long generation = this.generation;
        try {
            downloadsAhead.put(next.getId(), downloader.submit(() -> fetchAhead(next, fileId, generation)));
        } catch (RuntimeException e) {
            // stopping: the engine thread downloads it when it comes to it
            LOG.debug("Batch engine '{}': no download ahead for {}: {}", store.name(), next.getBatchId(), e.toString());
        }
    }

    /**
     * A remote file in the work directory: the copy already there, the one downloaded ahead (waited for), or
     * downloaded now.
     */
    private Path download(SegmentInfo s, String fileId, String suffix) throws IOException {
        Future<Path> ahead = "out".equals(suffix) ? downloadsAhead.remove(s.getId()) : null;
        if (ahead != null) {
            try {
                return ahead.get();
            } catch (ExecutionException e) {
                if (!running.get()) {
                    // stopping: fetched again after the restart
                    throw new StoppedException();
                }
                // its one attempt failed: this thread tries again, with retries, and reports
                LOG.debug("Batch engine '{}': the download ahead of batch {} failed: {}", store.name(),
                        s.getBatchId(), String.valueOf(e.getCause()));
            } catch (CancellationException e) {
                if (!running.get()) {
                    throw new StoppedException();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the download of " + fileId);
            }
        }
        return fetch(s, fileId, suffix);
    }

    /**
     * One attempt at an output file, on the download thread, into a temporary file of its own; gives up at its next
     * read once the engine that started it stops. The engine thread retries a failure when the segment's turn comes.
     */
    private Path fetchAhead(SegmentInfo s, String fileId, long generation) throws IOException {
        Path target = workDir.resolve(s.getId() + ".out.jsonl");
        Path tmp = workDir.resolve(s.getId() + ".out.jsonl.ahead");
        long started = System.nanoTime();
        try {
            LineIdScanner scan = new LineIdScanner(mapper, SegmentLimits.HARD_MAX_BYTES, s.getRequestCount());
            try (InputStream in = client.downloadFileContent(fileId);
                 OutputStream os = PrivateFiles.newOutputStream(tmp)) {
                copy(in, os, scan, () -> stopIfStale(generation));
            }
            stopIfStale(generation);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            scans.put(target, scan);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        stats.filesDownloadedAhead.incrementAndGet();
        LOG.debug("Batch engine '{}': downloaded file {} of batch {} ahead ({} bytes) in {} ms", store.name(), fileId,
                s.getBatchId(), Files.size(target), (System.nanoTime() - started) / 1_000_000);
        return target;
    }

    /** Ends a download ahead once the engine that started it ({@code generation}) stopped. */
    private void stopIfStale(long generation) throws StoppedException {
        if (!running.get() || generation != this.generation) {
            throw new StoppedException();
        }
    }

    /** A check made before each block of a download is written. */
    @FunctionalInterface
    private interface BlockCheck {
        void check() throws IOException;
    }

    /**
     * Copies a download to its file, feeding the scanner (when there is one), and ends the file with a newline if
     * the service left it out (be liberal: a last line that parses is accepted).
     */
    private static void copy(InputStream in, OutputStream os, LineIdScanner scan, BlockCheck beforeEachBlock)
            throws IOException {
        byte[] buf = new byte[1 << 16];
        int r;
        int lastByte = '\n';
        long total = 0;
        while ((r = in.read(buf)) > 0) {
            beforeEachBlock.check();
            os.write(buf, 0, r);
            if (scan != null) {
                scan.feed(buf, 0, r);
            }
            lastByte = buf[r - 1];
            total += r;
        }
        if (scan != null) {
            scan.finish();
        }
        if (total > 0 && lastByte != '\n') {
            os.write('\n');
        }
    }

    /** Downloads a remote file to the work directory once (streamed, verified complete), or reuses the copy. */
    private Path fetch(SegmentInfo s, String fileId, String suffix) throws IOException {
        Path target = workDir.resolve(s.getId() + "." + suffix + ".jsonl");
        if (Files.exists(target)) {
            return target;
        }
        Path tmp = workDir.resolve(s.getId() + "." + suffix + ".jsonl.part");
        long started = System.nanoTime();
        IOException last = null;
        for (int attempt = 1; attempt <= 5; attempt++) {
            LineIdScanner scan = "out".equals(suffix)
                    ? new LineIdScanner(mapper, SegmentLimits.HARD_MAX_BYTES, s.getRequestCount()) : null;
            try (InputStream in = client.downloadFileContent(fileId);
                 OutputStream os = PrivateFiles.newOutputStream(tmp)) {
                copy(in, os, scan, () -> {
                });
                if (scan != null) {
                    scans.put(target, scan);
                }
                last = null;
                break;
            } catch (IOException e) {
                last = e;
                stats.downloadRetries.incrementAndGet();
                LOG.warn("Batch engine '{}': download of {} failed ({}), attempt {} of 5", store.name(), fileId,
                        e.toString(), attempt);
                sleep(Math.min(10_000, 250L << attempt));
            }
        }
        if (last != null) {
            Files.deleteIfExists(tmp);
            throw last;
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        LOG.debug("Batch engine '{}': downloaded file {} of batch {} ({} bytes) in {} ms", store.name(), fileId,
                s.getBatchId(), Files.size(target), (System.nanoTime() - started) / 1_000_000);
        return target;
    }

    /** A download ahead that ends because the engine stops. */
    private static final class StoppedException extends IOException {
        private static final long serialVersionUID = 1L;

        StoppedException() {
            super("the batch engine stopped");
        }
    }

    private OutputLine parse(byte[] line) {
        return OutputLine.parse(line, mapper);
    }

    private static boolean isRetryable(OutputLine p, boolean retryUnfinished) {
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

    // ---------------------------------------------------------------- misc

    private void fire(BatchEvent.Type type, SegmentInfo s, Batch b, String message) {
        try {
            listener.onEvent(new BatchEvent(type, s != null ? s.copy() : null, b, message));
        } catch (RuntimeException e) {
            LOG.warn("Batch event listener failed: {}", e.toString());
        }
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }

    public void stop() {
        if (!running.compareAndSet(true, false)) {
            return;
        }
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        // a download ahead stops at its next read (its file is fetched again after a restart)
        generation++;
        downloader.shutdownNow();
        try {
            downloader.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        downloadsAhead.clear();
        // the engine thread is done: no batch is created behind the cancellations below
        if (config.cancelOnStop) {
            for (SegmentInfo s : store.segments()) {
                // with several nodes, only the batches this node drives
                if (s.getStatus() == SegmentStatus.SUBMITTED && leases.holds(s.getId())) {
                    try {
                        client.cancelBatch(s.getBatchId());
                        LOG.info("Batch engine '{}': cancelled batch {} on stop", store.name(), s.getBatchId());
                    } catch (RuntimeException e) {
                        LOG.warn("Cannot cancel batch {} on stop: {}", s.getBatchId(), e.getMessage());
                    }
                }
            }
        }
        // the other nodes take this node's segments over at once (not only once the leases expire)
        leases.releaseAll();
        LOG.info("Batch engine '{}' stopped; every batch is resumable", store.name());
    }
}
