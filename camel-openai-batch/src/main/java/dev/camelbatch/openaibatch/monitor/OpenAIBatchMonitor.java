package dev.camelbatch.openaibatch.monitor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.engine.BatchEvent;
import dev.camelbatch.openaibatch.engine.EmittedLine;
import dev.camelbatch.openaibatch.engine.EngineStats;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.usage.UsageTotals;

/**
 * What one endpoint name has done since its runtime was created in this JVM, for the health checks, the dev console,
 * JMX and Micrometer: requests spooled and segments sealed (counted where the store is called), batch events and
 * emitted lines (counted where the engine reports them), usage of finished batches, and the counters of the engine
 * (summed over the engines that ran for this name). Also a short-lived snapshot of the store's segments, so that
 * frequent readers (gauges, health checks) do not copy the store's state each time.
 * <p>
 * Plain {@code java.util.concurrent} counters only: nothing here needs Micrometer.
 */
public final class OpenAIBatchMonitor {

    /** Kinds of emitted lines, as metric tags. */
    public static final String RESULT = "result";
    public static final String ERROR = "error";

    private static final long SNAPSHOT_TTL_MS = 1_000;

    private final String name;
    private final AtomicLong requestsSpooled = new AtomicLong();
    private final AtomicLong documentsSpooled = new AtomicLong();
    private final AtomicLong segmentsSealed = new AtomicLong();
    private final Map<BatchEvent.Type, AtomicLong> events = new EnumMap<>(BatchEvent.Type.class);
    private final Map<String, AtomicLong> linesByCode = new ConcurrentHashMap<>();
    private final AtomicLong resultLines = new AtomicLong();
    private final AtomicLong errorLines = new AtomicLong();
    private final AtomicLong inputTokens = new AtomicLong();
    private final AtomicLong cachedTokens = new AtomicLong();
    private final AtomicLong outputTokens = new AtomicLong();
    private final AtomicLong reasoningTokens = new AtomicLong();
    /** Failed batches and STUCK reports by segment id, for the health check (in memory; cleared when DONE). */
    private final Map<String, Integer> failedBatchesBySegment = new ConcurrentHashMap<>();
    private final Map<String, Long> stuckSegments = new ConcurrentHashMap<>();
    private final AtomicLong lastActivity = new AtomicLong(System.currentTimeMillis());
    /** Counters of engines that ran for this name and stopped. */
    private final EngineStats pastEngines = new EngineStats();
    private final List<BiConsumer<String, String>> newLineCodeListeners = new CopyOnWriteArrayList<>();

    private volatile Supplier<BatchEngine> engine = () -> null;
    private volatile BatchStore store;
    private volatile Snapshot snapshot;

    public OpenAIBatchMonitor(String name) {
        this.name = name;
        for (BatchEvent.Type t : BatchEvent.Type.values()) {
            events.put(t, new AtomicLong());
        }
    }

    public void attach(BatchStore store, Supplier<BatchEngine> engine) {
        this.store = store;
        this.engine = engine;
    }

    /** The endpoint name. */
    public String name() {
        return name;
    }

    // ---------------------------------------------------------------- recorded by the runtime

    void spooled(int requests, boolean document) {
        requestsSpooled.addAndGet(requests);
        if (document) {
            documentsSpooled.incrementAndGet();
        }
    }

    void sealed(int segments) {
        if (segments > 0) {
            segmentsSealed.addAndGet(segments);
            snapshot = null;
        }
    }

    public void event(BatchEvent event) {
        events.get(event.type()).incrementAndGet();
        snapshot = null;
        SegmentInfo s = event.segment();
        String id = s != null ? s.getId() : null;
        switch (event.type()) {
            case SUBMITTED, PROGRESS, COMPLETED, EXPIRED, CANCELLED, DONE -> lastActivity.set(System.currentTimeMillis());
            default -> {
            }
        }
        if (id == null) {
            return;
        }
        switch (event.type()) {
            case FAILED -> failedBatchesBySegment.merge(id, 1, Integer::sum);
            case STUCK -> stuckSegments.put(id, System.currentTimeMillis());
            case PROGRESS, COMPLETED, EXPIRED, CANCELLED -> stuckSegments.remove(id);
            case DONE -> {
                failedBatchesBySegment.remove(id);
                stuckSegments.remove(id);
                add(inputTokens, s.getInputTokens());
                add(cachedTokens, s.getCachedTokens());
                add(outputTokens, s.getOutputTokens());
                add(reasoningTokens, s.getReasoningTokens());
            }
            default -> {
            }
        }
    }

    public void delivered(EmittedLine line) {
        lastActivity.set(System.currentTimeMillis());
        String kind = line.isError() ? ERROR : RESULT;
        (line.isError() ? errorLines : resultLines).incrementAndGet();
        String code = lineCode(line);
        String key = kind + "|" + code;
        AtomicLong c = linesByCode.get(key);
        if (c == null) {
            AtomicLong created = new AtomicLong();
            c = linesByCode.putIfAbsent(key, created);
            if (c == null) {
                c = created;
                for (BiConsumer<String, String> l : newLineCodeListeners) {
                    l.accept(kind, code);
                }
            }
        }
        c.incrementAndGet();
    }

    /**
     * The code of a line as a metric tag: the error code of a failure, else the HTTP status, else "none"; a code
     * outside the known ones is "other" ({@link LineCodes}).
     */
    static String lineCode(EmittedLine line) {
        if (line.isError() && line.errorCode() != null && !line.errorCode().isBlank()) {
            return LineCodes.tag(line.errorCode());
        }
        return line.statusCode() != null ? LineCodes.tag(Integer.toString(line.statusCode())) : "none";
    }

    public void engineStopped(BatchEngine e) {
        EngineStats s = e.stats();
        pastEngines.filesUploaded.addAndGet(s.filesUploaded.get());
        pastEngines.batchesCreated.addAndGet(s.batchesCreated.get());
        pastEngines.submitFailures.addAndGet(s.submitFailures.get());
        pastEngines.pollCycles.addAndGet(s.pollCycles.get());
        pastEngines.pollCalls.addAndGet(s.pollCalls.get());
        pastEngines.resultLinesEmitted.addAndGet(s.resultLinesEmitted.get());
        pastEngines.errorLinesEmitted.addAndGet(s.errorLinesEmitted.get());
        pastEngines.requestsResubmitted.addAndGet(s.requestsResubmitted.get());
        pastEngines.downloadRetries.addAndGet(s.downloadRetries.get());
        pastEngines.filesDeleted.addAndGet(s.filesDeleted.get());
        pastEngines.batchesDone.addAndGet(s.batchesDone.get());
    }

    /** Called with (kind, code) when a line code is seen for the first time (Micrometer registers a counter). */
    void onNewLineCode(BiConsumer<String, String> listener) {
        newLineCodeListeners.add(listener);
    }

    void removeNewLineCodeListener(BiConsumer<String, String> listener) {
        newLineCodeListeners.remove(listener);
    }

    private static void add(AtomicLong counter, Long value) {
        if (value != null) {
            counter.addAndGet(value);
        }
    }

    // ---------------------------------------------------------------- read

    public long requestsSpooled() {
        return requestsSpooled.get();
    }

    public long documentsSpooled() {
        return documentsSpooled.get();
    }

    public long segmentsSealed() {
        return segmentsSealed.get();
    }

    public long events(BatchEvent.Type type) {
        return events.get(type).get();
    }

    public long resultLines() {
        return resultLines.get();
    }

    public long errorLines() {
        return errorLines.get();
    }

    /** Emitted lines by "kind|code" (kind: result or error), sorted. */
    public Map<String, Long> linesByCode() {
        Map<String, Long> m = new TreeMap<>();
        linesByCode.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }

    public long lines(String kind, String code) {
        AtomicLong c = linesByCode.get(kind + "|" + code);
        return c != null ? c.get() : 0;
    }

    public long inputTokens() {
        return inputTokens.get();
    }

    public long cachedTokens() {
        return cachedTokens.get();
    }

    public long outputTokens() {
        return outputTokens.get();
    }

    public long reasoningTokens() {
        return reasoningTokens.get();
    }

    /** Failed batches per segment id since start (segments not yet done). */
    public Map<String, Integer> failedBatchesBySegment() {
        return Collections.unmodifiableMap(failedBatchesBySegment);
    }

    /** Segments the engine reported STUCK and that made no progress since, with the time of the report. */
    public Map<String, Long> stuckSegments() {
        return Collections.unmodifiableMap(stuckSegments);
    }

    /** Last time a batch was submitted, progressed, finished, or a line was delivered (epoch millis). */
    public long lastActivity() {
        return lastActivity.get();
    }

    /** The running engine of this name in this JVM, or {@code null}. */
    public BatchEngine engine() {
        return engine.get();
    }

    public boolean isEngineRunning() {
        return engine() != null;
    }

    /** The engine's last authentication problem, or {@code null}. */
    public String authProblem() {
        BatchEngine e = engine();
        return e != null ? e.authProblem() : null;
    }

    /** An engine counter summed over the engines that ran for this name (the running one included). */
    public long engineCounter(java.util.function.Function<EngineStats, AtomicLong> counter) {
        BatchEngine e = engine();
        return counter.apply(pastEngines).get() + (e != null ? counter.apply(e.stats()).get() : 0);
    }

    public long pollCalls() {
        return engineCounter(s -> s.pollCalls);
    }

    public long pollCycles() {
        return engineCounter(s -> s.pollCycles);
    }

    public long batchesCreated() {
        return engineCounter(s -> s.batchesCreated);
    }

    public long batchesDone() {
        return engineCounter(s -> s.batchesDone);
    }

    public long submitFailures() {
        return engineCounter(s -> s.submitFailures);
    }

    public long requestsResubmitted() {
        return engineCounter(s -> s.requestsResubmitted);
    }

    public long downloadRetries() {
        return engineCounter(s -> s.downloadRetries);
    }

    public long filesUploaded() {
        return engineCounter(s -> s.filesUploaded);
    }

    public long filesDeleted() {
        return engineCounter(s -> s.filesDeleted);
    }

    /**
     * Usage and estimated cost of the batches of this name finished in this JVM (every line delivered), priced with the
     * consumer's price table (see {@code priceTable}); kept by the engine's usage monitor.
     */
    public UsageTotals usage() {
        return UsageTotals.of(name);
    }

    /** The store of this name (while its runtime is open). */
    public BatchStore store() {
        return store;
    }

    /** The segments of the store (not DONE), at most a second old. */
    public Snapshot snapshot() {
        Snapshot s = snapshot;
        long now = System.currentTimeMillis();
        if (s == null || now - s.takenAt >= SNAPSHOT_TTL_MS) {
            BatchStore st = store;
            s = new Snapshot(now, st != null ? st.segments() : List.of());
            snapshot = s;
        }
        return s;
    }

    /** The segments of a store at one moment, with counts by status. */
    public static final class Snapshot {
        private final long takenAt;
        private final List<SegmentInfo> segments;
        private final Map<SegmentStatus, Integer> segmentsByStatus = new EnumMap<>(SegmentStatus.class);
        private final Map<SegmentStatus, Long> requestsByStatus = new EnumMap<>(SegmentStatus.class);

        Snapshot(long takenAt, List<SegmentInfo> segments) {
            this.takenAt = takenAt;
            this.segments = Collections.unmodifiableList(new ArrayList<>(segments));
            for (SegmentStatus st : SegmentStatus.values()) {
                segmentsByStatus.put(st, 0);
                requestsByStatus.put(st, 0L);
            }
            for (SegmentInfo s : segments) {
                segmentsByStatus.merge(s.getStatus(), 1, Integer::sum);
                requestsByStatus.merge(s.getStatus(), (long) s.getRequestCount(), Long::sum);
            }
        }

        public long takenAt() {
            return takenAt;
        }

        public List<SegmentInfo> segments() {
            return segments;
        }

        public int segments(SegmentStatus status) {
            return segmentsByStatus.get(status);
        }

        public long requests(SegmentStatus status) {
            return requestsByStatus.get(status);
        }

        /** Requests spooled and not yet submitted (open and sealed segments). */
        public long requestsWaiting() {
            return requests(SegmentStatus.OPEN) + requests(SegmentStatus.SEALED);
        }

        /** Segments on their way to a batch or with a batch running (uploading .. submitted). */
        public int batchesInFlight() {
            int n = 0;
            for (SegmentInfo s : segments) {
                if (s.getStatus().isInFlight()) {
                    n++;
                }
            }
            return n;
        }
    }
}
