package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a segment: recorded as delivered, its remote files deleted (a segment whose files cannot be deleted yet
 * stays FINISHED and is tried again, up to 20 times), completed in the store, and only then its local files removed,
 * so that a crash in between never needs a file that is already gone remotely.
 */
final class Cleanup {

    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);
    private static final int MAX_DELETE_ATTEMPTS = 20;

    private final EngineContext ctx;
    private final BatchStore store;
    private final EngineConfig config;
    private final EngineStats stats;
    private final SegmentLeases leases;
    private final Path workDir;
    private final Downloads downloads;
    private final FailurePolicy failures;
    private final Poller poller;
    /** Failed attempts to delete the remote files of a finished segment, by segment id. */
    private final Map<String, Integer> deleteFailures = new HashMap<>();

    Cleanup(EngineContext ctx, Downloads downloads, FailurePolicy failures, Poller poller) {
        this.ctx = ctx;
        this.store = ctx.store;
        this.config = ctx.config;
        this.stats = ctx.stats;
        this.leases = ctx.leases;
        this.workDir = ctx.workDir;
        this.downloads = downloads;
        this.failures = failures;
        this.poller = poller;
    }

    /** Cleans up and completes a segment; false when a remote file could not be deleted yet (tried again later). */
    boolean finish(SegmentInfo s, Path out, Path err) throws IOException {
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
        failures.forget(s);
        ctx.stuckCancelled.remove(s.getBatchId());
        poller.forget(s);
        SegmentInfo latest = store.segment(s.getId());
        store.complete(latest != null ? latest : s);
        // the local copies go last: a crash before complete() finds them again, so a restart never has to download
        // files that were already deleted remotely
        Emitter.deleteSorted(workDir, s);
        downloads.forget(s);
        if (out != null) {
            Files.deleteIfExists(out);
        }
        if (err != null) {
            Files.deleteIfExists(err);
        }
        leases.forget(s.getId());
        stats.batchesDone.incrementAndGet();
        ctx.fire(BatchEvent.Type.DONE, s, null, "all lines delivered");
        return true;
    }

    /** Deletes a remote file; true when it is gone (deleted now, or not found), false when it may still exist. */
    private boolean deleteQuietly(String fileId) {
        return ctx.provider.delete(fileId);
    }

    /** Tries again to delete the remote files whose deletion failed outside of a segment's clean-up. */
    void deletePending() {
        ctx.pendingDeletes.removeIf(fileId -> ctx.running() && deleteQuietly(fileId));
    }
}
