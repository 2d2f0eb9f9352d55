package dev.camelbatch.openaibatch.engine.store.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
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
            .contains("linux");

    final Path path;
    final FileChannel channel;
    long length;

    private AppendFile(Path path, FileChannel channel, long length) {
        this.path = path;
        this.channel = channel;
        this.length = length;
    }

    /**
     * Opens a file to append to after its data: a zero-filled tail (a mapping that was never cut, as a seal that
     * failed half way leaves it) is cut off first.
     *
     * @param mapped write through a memory mapping where the platform allows it
     */
    static AppendFile open(Path p, boolean mapped) throws IOException {
        return openAt(p, mapped && MAPPING_SUPPORTED, -1);
    }

    /**
     * Opens the file of an append file whose channel was closed under us, at the length it had: whatever lies beyond
     * (the zeros of a mapping, a part of an append that failed) was never acknowledged and is cut off.
     */
    static AppendFile reopen(AppendFile broken) throws IOException {
        return openAt(broken.path, broken instanceof Mapped, broken.length);
    }

    /** Opens the file, cut to {@code end} (where its data ends when negative). */
    private static AppendFile openAt(Path p, boolean mapped, long end) throws IOException {
        FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long at = end >= 0 ? end : dataEnd(ch);
            if (ch.size() > at) {
                ch.truncate(at);
            }
            return mapped ? new Mapped(p, ch, at) : new Written(p, ch, at);
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

    /** Writes all of {@code b} at {@code position} (positional writes: the channel's position is never used). */
    final void writeAt(ByteBuffer b, long position) throws IOException {
        long at = position;
        while (b.hasRemaining()) {
            at += channel.write(b, at);
        }
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

    /**
     * Cuts the file to the appended bytes. Cheap (no fsync): callable under a lock. Appends may still follow (a mapped
     * file maps again), so a seal that fails after this leaves a usable file.
     */
    abstract void finish() throws IOException;

    /**
     * Forces the appended bytes to the disk ({@code fdatasync}); through a channel of its own when this one was closed
     * under us (the file's pages are the file's, whichever descriptor forces them).
     */
    final void force() throws IOException {
        if (channel.isOpen()) {
            try {
                channel.force(false);
                return;
            } catch (ClosedChannelException e) {
                // closed meanwhile: below
            }
        }
        try (FileChannel again = FileChannel.open(path, StandardOpenOption.WRITE)) {
            again.force(false);
        } catch (java.nio.file.NoSuchFileException e) {
            // deleted since (its segment is done): nothing left to force
        }
    }

    /** Whether the channel was closed under us (an interrupted thread's channel operation closes it). */
    final boolean broken() {
        return !channel.isOpen();
    }

    /** {@link #finish Finishes} the file and closes it. */
    final void close() throws IOException {
        try {
            if (channel.isOpen()) {
                finish();
            }
        } finally {
            channel.close();
        }
    }

    /** One {@code write} call per append. */
    private static final class Written extends AppendFile {
        Written(Path path, FileChannel channel, long length) {
            super(path, channel, length);
        }

        @Override
        void append(ByteBuffer b) throws IOException {
            int n = b.remaining();
            try {
                writeAt(b, length);
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

        Mapped(Path path, FileChannel channel, long length) {
            super(path, channel, length);
            prefilled = length;
        }

        /** Makes sure that the file system holds blocks (zeros) up to {@code end}. */
        private void prefill(long end) throws IOException {
            while (prefilled < end) {
                writeAt(ZEROS.duplicate(), prefilled);
                prefilled += PREFILL;
            }
        }

        @Override
        void append(ByteBuffer b) throws IOException {
            if (!channel.isOpen()) {
                // closed under us (an interrupted thread's channel operation): the store opens the file again
                throw new ClosedChannelException();
            }
            int n = b.remaining();
            long pos = length;
            try {
                // blocks for the whole range first: a full disk fails here, before anything is stored
                prefill(length + n);
                while (b.hasRemaining()) {
                    if (window == null || pos < windowStart || pos >= windowStart + window.capacity()) {
                        window = null;
                        // map() extends the file to the end of the window
                        MappedByteBuffer next = channel.map(FileChannel.MapMode.READ_WRITE, pos, WINDOW);
                        windowStart = pos;
                        window = next;
                    }
                    int at = (int) (pos - windowStart);
                    int chunk = Math.min(b.remaining(), window.capacity() - at);
                    window.put(at, b, b.position(), chunk);
                    b.position(b.position() + chunk);
                    pos += chunk;
                }
            } catch (IOException | RuntimeException | InternalError e) {
                window = null;
                IOException failure = e instanceof IOException io ? io
                        : new IOException("Cannot write to the memory-mapped file: " + e, e);
                if (pos > length) {
                    // part of this append is stored after the data: zero it, so that neither a later shorter append
                    // nor a recovery after a crash finds it there
                    try {
                        writeAt(ByteBuffer.allocate((int) (pos - length)), length);
                    } catch (IOException cleanup) {
                        failure.addSuppressed(cleanup);
                    }
                }
                throw failure;
            }
            // the length moves only when the whole append is in
            length += n;
        }

        @Override
        void finish() throws IOException {
            // the pages beyond the new end are dropped from every mapping; nothing touches them again (a failed cut
            // leaves the file as it was, appendable)
            window = null;
            channel.truncate(length);
            prefilled = length;
        }
    }
}
