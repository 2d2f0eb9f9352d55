package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * A file that requests are appended to, one line at a time, and that must hold every appended line when the JVM is
 * killed right after {@link #append} returns.
 * <p>
 * On Linux the file is written through a shared memory mapping: a store into the mapping is in the operating
 * system's page cache at once, like a completed {@code write}, but costs no system call (one per window of
 * {@value #WINDOW} bytes instead of one per line). The mapping extends the file ahead of the data, so until the
 * file is {@linkplain #close closed} (which cuts it to its length) it ends with zero bytes; a reader of a file left by
 * a crash takes the data up to the first zero byte (a JSON line never contains one). {@link FileChannel#force} on
 * Linux also writes the pages changed through the mapping. Elsewhere (Windows cannot cut a mapped file; other
 * systems do not promise that {@code fsync} covers the mapping) every append is one {@code write} call.
 */
abstract class AppendFile {

    /** Bytes mapped at a time. */
    static final long WINDOW = 8L * 1024 * 1024;

    private static final boolean MAPPING_SUPPORTED = System.getProperty("os.name", "").toLowerCase(Locale.ROOT)
            .contains("linux") && !Boolean.getBoolean("openai-batch.spoolWithoutMapping");

    final FileChannel channel;
    long length;

    private AppendFile(FileChannel channel, long length) {
        this.channel = channel;
        this.length = length;
    }

    /**
     * Opens a file to append to after its current size (the file must hold complete lines and nothing else).
     *
     * @param mapped write through a memory mapping where the platform allows it
     */
    static AppendFile open(Path p, boolean mapped) throws IOException {
        FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long end = dataEnd(ch);
            if (end < ch.size()) {
                // the zeros of a mapping that was never finished (a seal that failed half way): the data ends before
                ch.truncate(end);
            }
            ch.position(end);
            return mapped && MAPPING_SUPPORTED ? new Mapped(ch, end) : new Written(ch, end);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Where the data of a file ends: after its last byte that is not zero (one small read for a file without zeros). */
    private static long dataEnd(FileChannel ch) throws IOException {
        long end = ch.size();
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        while (end > 0) {
            long from = Math.max(0, end - b.capacity());
            b.clear().limit((int) (end - from));
            while (b.hasRemaining()) {
                if (ch.read(b, from + b.position()) < 0) {
                    break;
                }
            }
            for (int i = b.position() - 1; i >= 0; i--) {
                if (b.get(i) != 0) {
                    return from + i + 1;
                }
            }
            end = from;
        }
        return 0;
    }

    /** Whether appends go through a memory mapping on this platform. */
    static boolean mappingSupported() {
        return MAPPING_SUPPORTED;
    }

    /** Appends the bytes of the buffer (all of them, or none when it fails). */
    abstract void append(ByteBuffer b) throws IOException;

    /** Appends a line and its newline. */
    final void appendLine(byte[] line) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(line.length + 1);
        b.put(line).put((byte) '\n').flip();
        append(b);
    }

    /** The bytes appended (the file may be longer while it is mapped). */
    final long length() {
        return length;
    }

    /** Cuts the file to the appended bytes; no append may follow. Cheap (no fsync): callable under a lock. */
    abstract void finish() throws IOException;

    /** Forces the appended bytes to the disk ({@code fdatasync}). */
    final void force() throws IOException {
        channel.force(false);
    }

    /** {@link #finish Finishes} the file and closes it. */
    final void close() throws IOException {
        try {
            finish();
        } finally {
            channel.close();
        }
    }

    /** One {@code write} call per append. */
    private static final class Written extends AppendFile {
        Written(FileChannel channel, long length) {
            super(channel, length);
        }

        @Override
        void append(ByteBuffer b) throws IOException {
            int n = b.remaining();
            try {
                while (b.hasRemaining()) {
                    channel.write(b, length + (n - b.remaining()));
                }
            } catch (IOException e) {
                // a part of the line may be in the file: cut it, or the next line would be glued to it
                try {
                    channel.truncate(length);
                } catch (IOException cut) {
                    e.addSuppressed(cut);
                }
                throw e;
            }
            length += n;
        }

        @Override
        void finish() {
            // the file is exactly the appended bytes
        }
    }

    /**
     * Stores into a shared mapping of the file, window after window. Ahead of the data, the file is filled with zeros
     * by {@code write} calls, {@value #PREFILL} bytes at a time: the file system then has the blocks before a page of
     * the mapping is touched, so a full disk is an {@link IOException} of that {@code write} (a store into a page that
     * the file system cannot back would instead raise an {@link InternalError} at some later point of the thread).
     */
    private static final class Mapped extends AppendFile {
        private static final int PREFILL = 1 << 20;
        private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(PREFILL).asReadOnlyBuffer();

        private MappedByteBuffer window;
        private long windowStart;
        private long prefilled;
        private boolean finished;

        Mapped(FileChannel channel, long length) {
            super(channel, length);
            prefilled = length;
        }

        /** Makes sure that the file system holds blocks (zeros) up to {@code end}. */
        private void prefill(long end) throws IOException {
            while (prefilled < end) {
                ByteBuffer z = ZEROS.duplicate();
                long at = prefilled;
                while (z.hasRemaining()) {
                    at += channel.write(z, at);
                }
                prefilled = at;
            }
        }

        @Override
        void append(ByteBuffer b) throws IOException {
            if (finished) {
                throw new IOException("the file is finished");
            }
            int n = b.remaining();
            long pos = length;
            try {
                while (b.hasRemaining()) {
                    if (window == null || pos >= windowStart + window.capacity()) {
                        // map() extends the file to the end of the window
                        windowStart = pos;
                        window = channel.map(FileChannel.MapMode.READ_WRITE, pos, WINDOW);
                    }
                    int at = (int) (pos - windowStart);
                    int chunk = Math.min(b.remaining(), window.capacity() - at);
                    prefill(pos + chunk);
                    window.put(at, b, b.position(), chunk);
                    b.position(b.position() + chunk);
                    pos += chunk;
                }
            } catch (InternalError e) {
                // a fault in the mapping reported at once (an I/O error of the file system)
                throw new IOException("Cannot write to the memory-mapped file: " + e.getMessage(), e);
            }
            // the length moves only when the whole line is in: a later append overwrites a partial one
            length += n;
        }

        @Override
        void finish() throws IOException {
            if (finished) {
                return;
            }
            finished = true;
            window = null;
            // the pages beyond the new end are dropped from every mapping; nothing touches them again
            channel.truncate(length);
        }
    }
}
