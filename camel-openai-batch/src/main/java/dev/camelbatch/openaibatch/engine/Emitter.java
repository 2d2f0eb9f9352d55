package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.api.BatchStatus;
import dev.camelbatch.openaibatch.engine.lines.CustomIdSet;
import dev.camelbatch.openaibatch.engine.lines.InputOrderSorter;
import dev.camelbatch.openaibatch.engine.lines.LineIdScanner;
import dev.camelbatch.openaibatch.engine.lines.LineReader;
import dev.camelbatch.openaibatch.engine.lines.OutputLine;
import dev.camelbatch.openaibatch.engine.lines.ParsedLineReader;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.LeaseLostException;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the lines of finished batches to the {@link LineSink}, one at a time with a checkpoint after each: the
 * output file's lines, then the error file's (or both sorted into request order, with {@code emitInOrder}), then the
 * errors made up for requests no line answered; lines worth another attempt are resubmitted instead (a new segment,
 * created once). A line the sink refuses is delivered again later, from the checkpoint.
 * <p>
 * One method is long ({@link #emit}): it decides, in one place, which lines of a batch go out in which order and which
 * are retried, so that the checkpoint arithmetic can be read top to bottom.
 */
final class Emitter {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);
    private static final int PARSE_AHEAD_CPUS = Runtime.getRuntime().availableProcessors();
    private static final long PARSE_AHEAD_MIN_BYTES = Long.getLong("openai-batch.parseAheadMinBytes", 4L << 20);

    private final EngineContext ctx;
    private final BatchStore store;
    private final EngineConfig config;
    private final EngineStats stats;
    private final SegmentLeases leases;
    private final ObjectMapper mapper;
    private final Path workDir;
    private final LineSink sink;
    private final Downloads downloads;
    private final FailurePolicy failures;
    private final Cleanup cleanup;

    Emitter(EngineContext ctx, LineSink sink, Downloads downloads, FailurePolicy failures, Cleanup cleanup) {
        this.ctx = ctx;
        this.store = ctx.store;
        this.config = ctx.config;
        this.stats = ctx.stats;
        this.leases = ctx.leases;
        this.mapper = ctx.mapper;
        this.workDir = ctx.workDir;
        this.sink = sink;
        this.downloads = downloads;
        this.failures = failures;
        this.cleanup = cleanup;
    }

    /** Emits the finished segments this node drives, one after the other, each from its checkpoint. */
    void emitFinished() {
        List<SegmentInfo> finished = new ArrayList<>();
        for (SegmentInfo listed : store.segments()) {
            if (listed.getStatus() == SegmentStatus.FINISHED) {
                finished.add(listed);
            }
        }
        for (int i = 0; i < finished.size(); i++) {
            if (!ctx.running()) {
                return;
            }
            // the node that holds the lease emits (from the checkpoint, after a takeover)
            SegmentInfo s = leases.claim(finished.get(i));
            if (s == null || s.getStatus() != SegmentStatus.FINISHED) {
                continue;
            }
            if (i + 1 < finished.size()) {
                downloads.downloadAhead(finished.get(i + 1));
            }
            try {
                if (!emit(s)) {
                    // the route failed a line, or a remote file could not be deleted: try again later, from the
                    // checkpoint
                    ctx.nextEmitAt = System.currentTimeMillis() + config.pollInterval;
                    return;
                }
            } catch (IOException | RuntimeException e) {
                if (e instanceof Downloads.StoppedException) {
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
                ctx.nextEmitAt = System.currentTimeMillis() + config.pollInterval;
                return;
            }
        }
    }

    /** Emits every remaining line of a finished segment; false when the sink refused a line. */
    private boolean emit(SegmentInfo s) throws IOException {
        if (s.isDelivered()) {
            // every line was delivered before a restart (or on another node): only the clean-up is left, and the
            // remote files may be gone already
            return cleanup.finish(s, null, null);
        }
        Path out = s.getOutputFileId() != null ? downloads.download(s, s.getOutputFileId(), "out") : null;
        Path err;
        try {
            err = s.getErrorFileId() != null ? downloads.download(s, s.getErrorFileId(), "err") : null;
        } catch (IOException | RuntimeException e) {
            // the output file is read again next time: its ids are not held meanwhile
            if (out != null) {
                downloads.dropScan(out);
            }
            throw e;
        }
        boolean retryUnfinished = BatchStatus.EXPIRED.value().equals(s.getBatchStatus())
                                  || ctx.stuckCancelled.contains(s.getBatchId())
                                  || EngineContext.STUCK_CANCELLED.equals(s.getLastError());
        Set<String> toRetry = new HashSet<>();
        // the requests that a line answers, as 8-byte hashes of their custom ids
        CustomIdSet answered;
        long outputLines = 0;
        if (out != null) {
            // counted and read for custom ids while it was downloaded; after a restart, from the file
            LineIdScanner scan = downloads.takeScan(out);
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
                            && FailurePolicy.isRetryable(p, retryUnfinished)) {
                        toRetry.add(p.customId());
                    } else {
                        errorsToEmit++;
                    }
                }
            }
        }
        FailurePolicy.SyntheticPlan plan = failures.plan(s);
        if (plan == null && answered.size() < s.getRequestCount()) {
            // requests that neither file answers (a batch cancelled or expired before they ran may leave them out
            // of both, a line may be cut or garbled): resubmitted like the unfinished ones, or reported; never
            // dropped
            plan = failures.unanswered(s, answered, retryUnfinished, toRetry);
        }
        if (!toRetry.isEmpty() && !hasRetryChild(s)) {
            List<SpoolRecord> records = new ArrayList<>(toRetry.size());
            store.readRequests(s.getId(), line -> {
                String id = RequestLines.customId(mapper, line);
                if (toRetry.contains(id)) {
                    records.add(new SpoolRecord(id, line, null, 0));
                }
            });
            SegmentInfo retry = failures.createRetrySegment(s, records, s.getAttempt() + 1);
            LOG.info("Batch engine '{}': {} requests of batch {} resubmitted as attempt {} (segment {})", store.name(),
                    records.size(), s.getBatchId(), retry.getAttempt(), retry.getId());
        }
        long syntheticCount = plan == null ? 0
                : plan.onlyLines() != null ? plan.onlyLines().size() : s.getRequestCount();
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
            deleteSorted(workDir, s);
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
        return cleanup.finish(s, out, err);
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
        deleteSorted(workDir, s);
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
    static void deleteSorted(Path workDir, SegmentInfo s) throws IOException {
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
                if (!ctx.running()) {
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

    private boolean emitSynthetic(SegmentInfo s, FailurePolicy.SyntheticPlan plan, Map<String, byte[]> carried,
            long[] emitted, long base, long size) throws IOException {
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
            if (plan.onlyLines() != null && !plan.onlyLines().containsKey(n[0])) {
                return;
            }
            long ordinal = plan.onlyLines() != null ? ++selected[0] : n[0];
            if (ordinal <= done) {
                return;
            }
            String id = RequestLines.customId(mapper, line);
            String msg = plan.onlyLines() != null ? plan.onlyLines().get(n[0])
                    : "The batch failed: " + (s.getLastError() != null ? s.getLastError() : "no details");
            ObjectNode synthetic = mapper.createObjectNode();
            synthetic.put("id", (String) null);
            synthetic.put("custom_id", id);
            synthetic.putNull("response");
            ObjectNode error = synthetic.putObject("error");
            error.put("code", plan.code());
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
                    OutputLine.of(synthetic, raw, mapper), null, plan.code(),
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

    private OutputLine parse(byte[] line) {
        return OutputLine.parse(line, mapper);
    }
}
