package dev.camelbatch.openaibatch.simulator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process simulator of the OpenAI Files and Batch API, served over HTTP on the loopback interface by the JDK's
 * {@code com.sun.net.httpserver.HttpServer}.
 *
 * <pre>{@code
 * try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofMillis(50)).build().start()) {
 *     String baseUrl = sim.baseUrl(); // http://127.0.0.1:PORT/v1
 * }
 * }</pre>
 *
 * <h2>Routes</h2>
 * {@code POST /v1/files} (multipart, streamed to disk), {@code GET /v1/files}, {@code GET|DELETE /v1/files/{id}},
 * {@code GET /v1/files/{id}/content}, {@code POST|GET /v1/batches}, {@code GET /v1/batches/{id}},
 * {@code POST /v1/batches/{id}/cancel}; in Azure mode the same under {@code /openai/...} with the
 * {@code api-version} query parameter required and the key in the {@code api-key} header. Admin routes (no auth):
 * {@code GET /__simulator/stats}, {@code POST /__simulator/reset}, {@code GET /__simulator/health},
 * {@code POST /__simulator/batches/{id}/(cancel|expire|stuck|unstuck)}.
 *
 * <h2>Lifecycle</h2>
 * Every {@code stepDelay} a batch advances one step: {@code validating} -> {@code in_progress} (or {@code failed});
 * each {@code in_progress} step executes {@code linesPerStep} requests; once all are done {@code finalizing}; the
 * next step {@code completed}. A cancel moves it to {@code cancelling} and the next step to {@code cancelled}.
 * Output lines are shuffled (seeded). On cancel/expiry the requests not executed are written to the error file with
 * code {@code batch_cancelled} / {@code batch_expired} and counted in {@code request_counts.failed}.
 *
 * <h2>Batch errors ({@code errors.data[].code})</h2>
 * <ul>
 * <li>{@code invalid_json_line} - a line is not a JSON object (or longer than 16 MiB)</li>
 * <li>{@code missing_required_parameter} - {@code custom_id}, {@code method}, {@code url} or {@code body} is missing
 * ({@code param} names it)</li>
 * <li>{@code invalid_request} - {@code body.stream} is true, {@code custom_id} is not a string or {@code body} is not an
 * object</li>
 * <li>{@code invalid_method} - method is not {@code POST}</li>
 * <li>{@code invalid_url} - the line's {@code url} differs from the batch endpoint</li>
 * <li>{@code missing_model} - no {@code body.model}</li>
 * <li>{@code mismatched_model} - more than one model in the file</li>
 * <li>{@code duplicate_custom_id} - a {@code custom_id} occurs twice</li>
 * <li>{@code too_many_requests} - more than {@code maxRequestsPerBatch} (50 000) requests ({@code line} null)</li>
 * <li>{@code file_too_large} - input file over {@code maxBatchFileBytes} (200 MB) ({@code line} null)</li>
 * <li>{@code empty_file} - the file has no requests ({@code line} null)</li>
 * <li>{@code token_limit_exceeded} - the estimated tokens of this batch plus those of the model's batches still
 * in flight exceed the {@link Builder#enqueuedTokenLimit} ({@code line} null)</li>
 * <li>{@code invalid_file} - the input file was deleted before validation</li>
 * </ul>
 * Line numbers ({@code line}) are 1-based; at most 1000 errors are reported.
 *
 * <h2>Per-request results</h2>
 * See {@link MockModel}: answers are {@code "1 + N = <sum>"} for {@code Calculate: 1 + N = } prompts and
 * {@code "Echo: <prompt>"} otherwise; the markers {@code FAIL_400}, {@code FAIL_500} and {@code FAIL_TIMEOUT} in any
 * string of a request body make that request fail (error file). Tokens are estimated as
 * {@code max(1, ceil(chars/4))} over all string values of the body except {@code model}; the same estimate is used
 * for the enqueued-token limit.
 * <p>
 * Long because it is the simulator's public face: its builder, its faults, its execution record and the
 * documentation of what it simulates, kept together so that a test author finds them in one class.
 */
public final class BatchSimulator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchSimulator.class);

    static {
        // The JDK server writes the status line/headers and the body in separate TCP segments; with Nagle's algorithm
        // on, the body then waits for the client's delayed ACK (~40 ms per call on Linux loopback). The JDK reads this
        // property once, when its server classes are first used in the JVM; an explicit setting is respected.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final SimulatorConfig cfg;
    private final boolean ownsStorage;
    private final FileStore files;
    private final StatsRecorder stats = new StatsRecorder();
    private final ExecutionLog executions;
    private final FaultInjector faults;
    private final ScheduledThreadPoolExecutor scheduler;
    private final BatchRunner batches;
    private HttpServer server;
    private ExecutorService httpExecutor;
    private volatile int port = -1;
    private volatile boolean closed;

    /** The builder's fault rules: installed at build time and again by {@link #reset()}. */
    private final List<Consumer<FaultInjector>> initialFaults;

    private BatchSimulator(SimulatorConfig cfg, boolean ownsStorage, List<Consumer<FaultInjector>> initialFaults) {
        this.initialFaults = List.copyOf(initialFaults);
        this.cfg = cfg;
        this.ownsStorage = ownsStorage;
        this.files = new FileStore(cfg.storageDir(), cfg.clock());
        this.faults = new FaultInjector(cfg.seed());
        this.executions = new ExecutionLog(cfg.recordExecutions());
        this.initialFaults.forEach(r -> r.accept(faults));
        this.scheduler = new ScheduledThreadPoolExecutor(2, daemonThreads("openai-batch-sim-scheduler"));
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.batches = new BatchRunner(cfg, files, stats, executions, scheduler);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds the HTTP server and starts serving; returns {@code this}. */
    public synchronized BatchSimulator start() {
        if (closed) {
            throw new IllegalStateException("simulator closed");
        }
        if (server != null) {
            return this;
        }
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), cfg.port()), 128);
            httpExecutor = new ThreadPoolExecutor(cfg.httpThreads(), cfg.httpThreads(), 60, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), daemonThreads("openai-batch-sim-http"));
            s.setExecutor(httpExecutor);
            s.createContext("/", new ApiHandler(this, cfg, files, batches, stats, faults));
            s.start();
            server = s;
            port = s.getAddress().getPort();
            LOG.info("OpenAI Batch simulator listening on {}", baseUrl());
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the simulator on port " + cfg.port(), e);
        }
    }

    /** {@code http://127.0.0.1:PORT/v1}, or {@code http://127.0.0.1:PORT/openai} in Azure mode. */
    public String baseUrl() {
        return rootUrl() + cfg.pathPrefix();
    }

    /** {@code http://127.0.0.1:PORT} (where the admin routes live). */
    public String rootUrl() {
        if (port < 0) {
            throw new IllegalStateException("simulator not started");
        }
        return "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + port;
    }

    public int port() {
        if (port < 0) {
            throw new IllegalStateException("simulator not started");
        }
        return port;
    }

    public boolean azureMode() {
        return cfg.azureMode();
    }

    public String apiKey() {
        return cfg.apiKey();
    }

    public Path storageDir() {
        return cfg.storageDir();
    }

    public SimulatorStats stats() {
        return stats.snapshot(batches.statusCounts(), files.count(), files.bytes());
    }

    public FaultInjector faults() {
        return faults;
    }

    /** Cancels a batch as a user in the dashboard would: {@code cancelling} now, {@code cancelled} at the next step. */
    public ObjectNode cancelBatch(String batchId) {
        try {
            return batches.cancel(batchId).deepCopy();
        } catch (ApiException e) {
            throw translate(e, batchId);
        }
    }

    /** Expires a (not yet finished) batch right now, with partial output. */
    public ObjectNode expireBatch(String batchId) {
        try {
            batches.expire(batchId);
            return batch(batchId);
        } catch (ApiException e) {
            throw translate(e, batchId);
        }
    }

    /** Stops the batch from advancing (it stays in its current status) until {@link #unstuck(String)}. */
    public void makeStuck(String batchId) {
        try {
            batches.setStuck(batchId, true);
        } catch (ApiException e) {
            throw translate(e, batchId);
        }
    }

    /**
     * Advances a batch by exactly one lifecycle step right now, whether or not it is stuck (combine with
     * {@link #makeStuck} for fully deterministic tests). Returns the batch JSON after the step.
     *
     * @throws IllegalStateException if the batch has already ended
     */
    public ObjectNode step(String batchId) {
        try {
            if (!batches.step(batchId)) {
                throw new IllegalStateException("batch " + batchId + " has already ended");
            }
            return batch(batchId);
        } catch (ApiException e) {
            throw translate(e, batchId);
        }
    }

    public void unstuck(String batchId) {
        try {
            batches.setStuck(batchId, false);
        } catch (ApiException e) {
            throw translate(e, batchId);
        }
    }

    /** The current Batch JSON (a copy). */
    public ObjectNode batch(String batchId) {
        try {
            return batches.get(batchId).deepCopy();
        } catch (ApiException e) {
            throw translate(e, batchId);
        }
    }

    /** Ids of all batches, oldest first. */
    public List<String> batchIds() {
        return batches.ids();
    }

    /** The OpenAIFile JSON of a stored file. */
    public ObjectNode file(String fileId) {
        try {
            return files.require(fileId).toJson();
        } catch (ApiException e) {
            throw translate(e, fileId);
        }
    }

    /** The content of a stored file as UTF-8 text (convenience for small files in tests). */
    public String fileContent(String fileId) {
        try {
            return Files.readString(files.require(fileId).path(), StandardCharsets.UTF_8);
        } catch (ApiException e) {
            throw translate(e, fileId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every request line executed so far (since start or the last {@link #reset()}), in the order they ran: which
     * batch ran which custom id, and how it ended. Lines that a batch did not run (cancelled or expired before their
     * turn) are not here. Empty when recording is off ({@link Builder#recordExecutions(boolean)}).
     */
    public List<Execution> executions() {
        return executions.all();
    }

    /** Whether executions are recorded ({@link Builder#recordExecutions(boolean)}). */
    public boolean recordsExecutions() {
        return executions.enabled();
    }

    /** {@link #executions()} grouped by custom id: a custom id with two entries was executed twice. */
    public Map<String, List<Execution>> executionsByCustomId() {
        return executions.byCustomId();
    }

    /**
     * Forgets all files, batches, stats, executions and fault rules; the fault rules given to the builder are
     * installed again.
     */
    public void reset() {
        batches.reset();
        files.clear();
        stats.reset();
        executions.clear();
        faults.clear();
        initialFaults.forEach(r -> r.accept(faults));
        LOG.debug("simulator reset");
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (server != null) {
            server.stop(0);
        }
        if (httpExecutor != null) {
            httpExecutor.shutdownNow();
        }
        scheduler.shutdownNow();
        batches.reset();
        if (ownsStorage) {
            deleteTree(cfg.storageDir());
        }
        LOG.info("OpenAI Batch simulator on port {} stopped", port);
    }

    private static RuntimeException translate(ApiException e, String id) {
        if (e.status == 404) {
            return new NoSuchElementException(e.getMessage());
        }
        return new IllegalStateException(e.getMessage());
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(FileStore::deleteQuietly);
        } catch (IOException ignored) {
            // best effort
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Builder; every setting is optional. */
    public static final class Builder {
        private String apiKey;
        private int port;
        private Path storageDir;
        private Duration stepDelay = Duration.ofMillis(100);
        private int linesPerStep = 1000;
        private boolean azureMode;
        private final Map<String, Long> enqueuedTokenLimits = new HashMap<>();
        private int expireAfterSteps = -1;
        private long seed = 42L;
        private int maxRequestsPerBatch = 50_000;
        private long maxBatchFileBytes = 200L * 1024 * 1024;
        private long maxUploadBytes = 512L * 1024 * 1024;
        private int httpThreads = 16;
        private Clock clock = Clock.systemUTC();
        private boolean recordExecutions = true;
        private final List<Consumer<FaultInjector>> faultRules = new ArrayList<>();

        private Builder() {
        }

        /** The accepted API key; {@code null} (the default) accepts any key or none. */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port);
            }
            this.port = port;
            return this;
        }

        /** Where files are stored; default a fresh temporary directory that is deleted on {@link #close()}. */
        public Builder storageDir(Path storageDir) {
            this.storageDir = storageDir;
            return this;
        }

        /** Time per lifecycle step (default 100 ms). */
        public Builder stepDelay(Duration stepDelay) {
            if (stepDelay.isNegative() || stepDelay.isZero()) {
                throw new IllegalArgumentException("stepDelay must be positive");
            }
            this.stepDelay = stepDelay;
            return this;
        }

        /** Requests executed per {@code in_progress} step (default 1000). */
        public Builder linesPerStep(int linesPerStep) {
            if (linesPerStep < 1) {
                throw new IllegalArgumentException("linesPerStep must be >= 1");
            }
            this.linesPerStep = linesPerStep;
            return this;
        }

        /** Azure OpenAI emulation (default false). */
        public Builder azureMode(boolean azureMode) {
            this.azureMode = azureMode;
            return this;
        }

        /** Per-model limit of estimated enqueued tokens over all batches not yet finished. */
        public Builder enqueuedTokenLimit(String model, long tokens) {
            enqueuedTokenLimits.put(Objects.requireNonNull(model, "model"), tokens);
            return this;
        }

        /** A batch expires after this many {@code in_progress} steps if it has not finished by then. */
        public Builder expireAfterSteps(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("steps must be >= 0");
            }
            this.expireAfterSteps = steps;
            return this;
        }

        /** Seed for the output shuffle and probabilistic faults (default 42). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Requests per batch before {@code too_many_requests} (default 50 000). */
        public Builder maxRequestsPerBatch(int max) {
            this.maxRequestsPerBatch = max;
            return this;
        }

        /** Input file size before {@code file_too_large} (default 200 MB). */
        public Builder maxBatchFileBytes(long max) {
            this.maxBatchFileBytes = max;
            return this;
        }

        /** Largest accepted upload (default 512 MB, the Files API limit). */
        public Builder maxUploadBytes(long max) {
            this.maxUploadBytes = max;
            return this;
        }

        /** HTTP worker threads (default 16). */
        public Builder httpThreads(int threads) {
            this.httpThreads = Math.max(1, threads);
            return this;
        }

        /** Clock for timestamps (default UTC system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Whether to record which custom ids each batch executes ({@link BatchSimulator#executions()}; default
         * true). Every executed custom id stays in memory: switch it off for runs of millions of requests.
         */
        public Builder recordExecutions(boolean record) {
            this.recordExecutions = record;
            return this;
        }

        /**
         * A fault rule installed when the simulator is built (and again by {@link BatchSimulator#reset()}), the same
         * as {@link FaultInjector#probability} on {@link BatchSimulator#faults()}.
         */
        public Builder fault(String routePattern, double probability, Fault fault) {
            FaultInjector.compile(routePattern);
            faultRules.add(f -> f.probability(routePattern, probability, fault));
            return this;
        }

        /**
         * Loses the answer of every {@code POST} and {@code DELETE} call with this probability after the call took
         * effect: {@link FaultInjector#lostAnswers(double)}.
         */
        public Builder lostAnswers(double probability) {
            faultRules.add(f -> f.lostAnswers(probability));
            return this;
        }

        /** Builds a simulator; call {@link BatchSimulator#start()} to serve. */
        public BatchSimulator build() {
            boolean owns = storageDir == null;
            Path dir;
            try {
                dir = owns ? Files.createTempDirectory("openai-batch-sim") : Files.createDirectories(storageDir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the storage directory", e);
            }
            SimulatorConfig cfg = new SimulatorConfig(apiKey, port, dir, stepDelay, linesPerStep, azureMode,
                    Map.copyOf(enqueuedTokenLimits), expireAfterSteps, seed, maxRequestsPerBatch, maxBatchFileBytes,
                    maxUploadBytes, httpThreads, clock, recordExecutions);
            return new BatchSimulator(cfg, owns, faultRules);
        }
    }
}
