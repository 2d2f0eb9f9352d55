package dev.camelbatch.openaibatch.engine.store.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.io.PrivateFiles;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;

/**
 * The state files of a {@link FileBatchStore} ({@code segments/<id>.state.json}), replaced atomically: write a
 * temporary file, fsync it (unless {@link SyncPolicy#NEVER}), rename it over the old one and, under
 * {@link SyncPolicy#ALWAYS}, force the directory.
 * <p>
 * Called with the store's lock held, a write is only queued, and the calling thread performs it after releasing the
 * lock ({@link #runDeferred}): an fsync takes tens of milliseconds and must not stall the producers. Other slow work
 * done on behalf of a locked section (closing and forcing a sealed segment's files) queues the same way
 * ({@link #defer}). A version number keeps an older state from replacing a newer one when two threads write the same
 * segment.
 */
final class FileStateWriter {

    /** Slow work queued under the store's lock. */
    @FunctionalInterface
    interface IoAction {
        void run() throws IOException;
    }

    private final Path segmentsDir;
    private final SyncPolicy syncPolicy;
    private final ObjectMapper mapper;
    private final Object storeLock;
    private final Consumer<Path> syncDirectory;
    private final AtomicLong versions = new AtomicLong();
    private final Map<String, long[]> written = new ConcurrentHashMap<>();
    private final ThreadLocal<List<IoAction>> deferred = ThreadLocal.withInitial(ArrayList::new);

    /**
     * @param storeLock     the store's lock: writes under it are deferred
     * @param syncDirectory forces a directory after a rename when the sync policy asks for it
     */
    FileStateWriter(Path segmentsDir, SyncPolicy syncPolicy, ObjectMapper mapper, Object storeLock,
                    Consumer<Path> syncDirectory) {
        this.segmentsDir = segmentsDir;
        this.syncPolicy = syncPolicy;
        this.mapper = mapper;
        this.storeLock = storeLock;
        this.syncDirectory = syncDirectory;
    }

    Path stateFile(String id) {
        return segmentsDir.resolve(id + ".state.json");
    }

    /** Persists a segment's state now if the store's lock is free, else after this thread releases it. */
    void write(SegmentInfo s) throws IOException {
        String id = s.getId();
        byte[] json = mapper.writeValueAsBytes(s);
        long version = versions.incrementAndGet();
        if (Thread.holdsLock(storeLock)) {
            deferred.get().add(() -> persist(id, version, json));
        } else {
            persist(id, version, json);
        }
    }

    /** Persists a segment's state now, even under the lock (a new segment's state precedes its first line). */
    void writeNow(SegmentInfo s) throws IOException {
        persist(s.getId(), versions.incrementAndGet(), mapper.writeValueAsBytes(s));
    }

    /** Queues work (an fsync, a close) to run after the store lock is released, in order. */
    void defer(IoAction action) {
        deferred.get().add(action);
    }

    /** Runs what this thread queued while it held the store lock; the first failure is thrown after all ran. */
    void runDeferred() throws IOException {
        List<IoAction> actions = deferred.get();
        if (actions.isEmpty()) {
            return;
        }
        List<IoAction> copy = new ArrayList<>(actions);
        actions.clear();
        IOException first = null;
        for (IoAction a : copy) {
            try {
                a.run();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** A finished segment's state file is gone: forgets its version. */
    void forget(String id) {
        written.remove(id);
    }

    private void persist(String id, long version, byte[] json) throws IOException {
        long[] last = written.computeIfAbsent(id, k -> new long[1]);
        synchronized (last) {
            if (version < last[0]) {
                return;
            }
            Path tmp = segmentsDir.resolve(id + ".state.json.tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(json);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                if (syncPolicy != SyncPolicy.NEVER) {
                    ch.force(false);
                }
            }
            PrivateFiles.restrict(tmp);
            replace(tmp, stateFile(id));
            // the rename, and the segment files created before it, reach the disk with the directory
            syncDirectory.accept(segmentsDir);
            last[0] = version;
        }
    }

    /** Renames {@code from} over {@code to}, atomically where the file system can. */
    static void replace(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
