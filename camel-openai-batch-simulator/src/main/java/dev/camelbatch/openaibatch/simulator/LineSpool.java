package dev.camelbatch.openaibatch.simulator;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

/**
 * An append-only spool of JSONL result lines on disk. Only the start offset of each line is kept in memory; when the
 * batch ends the lines are written to the final file in a shuffled (seeded) order by positional reads.
 */
final class LineSpool implements Closeable {

    private final Path path;
    private final OutputStream out;
    private long[] offsets = new long[1024];
    private int count;
    private long size;

    LineSpool(Path path) throws IOException {
        this.path = path;
        this.out = new BufferedOutputStream(Files.newOutputStream(path, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, StandardOpenOption.CREATE), 64 * 1024);
    }

    void append(String line) throws IOException {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        if (count == offsets.length) {
            offsets = Arrays.copyOf(offsets, count * 2);
        }
        offsets[count++] = size;
        out.write(bytes);
        size += bytes.length;
    }

    int count() {
        return count;
    }

    /** Writes the spooled lines, shuffled with {@code random}, to {@code target}. */
    void writeShuffled(Path target, Random random) throws IOException {
        out.flush();
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        try (FileChannel src = FileChannel.open(path, StandardOpenOption.READ);
                OutputStream dst = new BufferedOutputStream(Files.newOutputStream(target), 64 * 1024)) {
            for (int idx : order) {
                long start = offsets[idx];
                long end = idx + 1 < count ? offsets[idx + 1] : size;
                long p = start;
                while (p < end) {
                    buffer.clear();
                    buffer.limit((int) Math.min(buffer.capacity(), end - p));
                    int r = src.read(buffer, p);
                    if (r < 0) {
                        throw new IOException("spool truncated: " + path);
                    }
                    dst.write(buffer.array(), 0, r);
                    p += r;
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // best effort
        }
        FileStore.deleteQuietly(path);
    }
}
