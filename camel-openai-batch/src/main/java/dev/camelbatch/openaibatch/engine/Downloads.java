package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.io.PrivateFiles;
import dev.camelbatch.openaibatch.engine.lines.LineIdScanner;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the output and error files of finished batches into the work directory: streamed to a temporary file,
 * complete or not at all (retried with the engine's backoff), read for line counts and custom ids on the way; and,
 * while one finished batch is emitted, the next one's output file on a thread of its own (one at a time, single node
 * only), so that emitting batch after batch does not stop for every download.
 */
final class Downloads {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);

    private final EngineContext ctx;
    private final BatchStore store;
    private final EngineStats stats;
    private final SegmentLeases leases;
    private final ObjectMapper mapper;
    private final Path workDir;
    /** Line counts and custom ids of output files, read while they were downloaded (until emission takes them). */
    private final Map<Path, LineIdScanner> scans = new ConcurrentHashMap<>();
    /** Output files being downloaded ahead, by segment id (one at a time). */
    private final Map<String, Future<Path>> downloadsAhead = new ConcurrentHashMap<>();
    private ExecutorService downloader;
    /** Counts the engine's stops: a download ahead started before a stop never completes after it. */
    private volatile long generation;

    Downloads(EngineContext ctx) {
        this.ctx = ctx;
        this.store = ctx.store;
        this.stats = ctx.stats;
        this.leases = ctx.leases;
        this.mapper = ctx.mapper;
        this.workDir = ctx.workDir;
    }

    /** Starts with the engine, on the thread it is given for downloads ahead. */
    void start(ExecutorService downloadThread) {
        this.downloader = downloadThread;
    }

    /** The engine stops: a download ahead ends at its next read (its file is fetched again after a restart). */
    void stopping() {
        generation++;
    }

    /** After the download thread has ended. */
    void stopped() {
        downloadsAhead.clear();
    }

    /** The line count and custom ids read while {@code out} was downloaded, if this engine downloaded it. */
    LineIdScanner takeScan(Path out) {
        return scans.remove(out);
    }

    /** Forgets what was read of a file that will be read again. */
    void dropScan(Path out) {
        scans.remove(out);
    }

    /** A segment is done: what was kept of its downloads goes, and so do the unfinished ones a crash left. */
    void forget(SegmentInfo s) throws IOException {
        scans.remove(workDir.resolve(s.getId() + ".out.jsonl"));
        downloadsAhead.remove(s.getId());
        // an unfinished download left by a crash (the file may have come in the other way afterwards)
        Files.deleteIfExists(workDir.resolve(s.getId() + ".out.jsonl.part"));
        Files.deleteIfExists(workDir.resolve(s.getId() + ".out.jsonl.ahead"));
    }

    /**
     * Starts downloading the output file of a finished segment that is emitted next, unless one download ahead is
     * already held or running (one at a time), the file is here, or this node does not drive every segment (with
     * leases, another node may emit it). Needs a second pooled connection: the engine's own calls go on meanwhile.
     */
    void downloadAhead(SegmentInfo next) {
        if (leases.enabled() || ctx.provider.connections() < 2 || !downloadsAhead.isEmpty()
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
    Path download(SegmentInfo s, String fileId, String suffix) throws IOException {
        Future<Path> ahead = "out".equals(suffix) ? downloadsAhead.remove(s.getId()) : null;
        if (ahead != null) {
            try {
                return ahead.get();
            } catch (ExecutionException e) {
                if (!ctx.running()) {
                    // stopping: fetched again after the restart
                    throw new StoppedException();
                }
                // its one attempt failed: this thread tries again, with retries, and reports
                LOG.debug("Batch engine '{}': the download ahead of batch {} failed: {}", store.name(),
                        s.getBatchId(), String.valueOf(e.getCause()));
            } catch (CancellationException e) {
                if (!ctx.running()) {
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
            try (InputStream in = ctx.provider.open(fileId);
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
        if (!ctx.running() || generation != this.generation) {
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
            try (InputStream in = ctx.provider.open(fileId);
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
                sleep(EngineContext.backoff(500, 10_000, attempt));
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
    static final class StoppedException extends IOException {
        private static final long serialVersionUID = 1L;

        StoppedException() {
            super("the batch engine stopped");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
