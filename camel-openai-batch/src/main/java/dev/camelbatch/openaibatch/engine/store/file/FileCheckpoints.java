package dev.camelbatch.openaibatch.engine.store.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

import dev.camelbatch.openaibatch.engine.io.PrivateFiles;

/**
 * The emission checkpoints of a {@link FileBatchStore}: {@code segments/<id>.ckpt}, three longs (output lines, error
 * lines, synthetic lines emitted) rewritten in place through a shared memory mapping. A store into the mapping is in
 * the page cache at once: it survives the death of the JVM without a system call per line, and each value only
 * grows, so a kill between the three stores is harmless. Used under the store's lock.
 */
final class FileCheckpoints {

    private static final int SIZE = 24;

    private final Path segmentsDir;
    private final Map<String, MappedByteBuffer> mapped = new HashMap<>();

    FileCheckpoints(Path segmentsDir) {
        this.segmentsDir = segmentsDir;
    }

    Path file(String id) {
        return segmentsDir.resolve(id + ".ckpt");
    }

    void write(String segmentId, long output, long errors, long synthetic) throws IOException {
        MappedByteBuffer ckpt = mapped.get(segmentId);
        if (ckpt == null) {
            Path p = file(segmentId);
            if (!Files.exists(p)) {
                PrivateFiles.createFile(p);
            }
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ckpt = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
            }
            mapped.put(segmentId, ckpt);
        }
        ckpt.putLong(0, output).putLong(8, errors).putLong(16, synthetic);
    }

    /** The recorded checkpoint ({@code output, errors, synthetic}), {@code null} when there is none. */
    long[] read(String segmentId) throws IOException {
        Path p = file(segmentId);
        if (!Files.exists(p) || Files.size(p) < SIZE) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p));
        return new long[] { b.getLong(), b.getLong(), b.getLong() };
    }

    /** Unmaps (eventually) the checkpoint of a finished segment. */
    void forget(String segmentId) {
        mapped.remove(segmentId);
    }
}
