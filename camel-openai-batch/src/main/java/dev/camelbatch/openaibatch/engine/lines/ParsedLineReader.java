package dev.camelbatch.openaibatch.engine.lines;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads the lines of a downloaded output or error file and parses them ({@link OutputLine}), in file order.
 * <p>
 * With {@code ahead}, a second thread reads and parses while the caller turns the previous lines into exchanges:
 * the lines travel in chunks (at most {@value #CHUNK_LINES} lines or {@value #CHUNK_BYTES} bytes) through a queue of
 * {@value #QUEUE_CHUNKS} chunks, so memory stays bounded whatever the file's size, and the hand-over costs one queue
 * operation per chunk, not per line. Without it everything happens on the caller's thread.
 */
public final class ParsedLineReader implements Closeable {

    static final int CHUNK_LINES = 512;
    static final int CHUNK_BYTES = 1 << 20;
    static final int QUEUE_CHUNKS = 4;

    /** A line and its 1-based number in the file (blank lines not counted). */
    public record Entry(long number, OutputLine line) {
    }

    private static final Object END = new Object();

    private final InputStream in;
    private final LineReader reader;
    private final ObjectMapper mapper;
    private final long skipThrough;
    private long number;

    private final Thread thread;
    private final BlockingQueue<Object> queue;
    private volatile boolean closed;
    private Entry[] chunk;
    private int chunkPos;
    private int chunkLen;

    private ParsedLineReader(Path file, long maxLineBytes, ObjectMapper mapper, long skipThrough, String threadName)
            throws IOException {
        this.in = Files.newInputStream(file);
        this.reader = new LineReader(in, 1 << 16, maxLineBytes);
        this.mapper = mapper;
        this.skipThrough = skipThrough;
        if (threadName != null) {
            queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
            thread = new Thread(this::readAhead, threadName);
            thread.setDaemon(true);
            try {
                thread.start();
            } catch (RuntimeException | Error e) {
                in.close();
                throw e;
            }
        } else {
            queue = null;
            thread = null;
        }
    }

    /**
     * Opens a file.
     *
     * @param skipThrough lines numbered up to this one are counted but neither parsed nor returned
     * @param threadName  the name of the parse-ahead thread, or {@code null} to parse on the caller's thread
     */
    public static ParsedLineReader open(Path file, long maxLineBytes, ObjectMapper mapper, long skipThrough,
            String threadName) throws IOException {
        return new ParsedLineReader(file, maxLineBytes, mapper, skipThrough, threadName);
    }

    /** The next line, or {@code null} at the end of the file. */
    public Entry next() throws IOException {
        if (thread == null) {
            return readOne();
        }
        if (chunkPos < chunkLen) {
            return chunk[chunkPos++];
        }
        Object o;
        try {
            o = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading " + e.getMessage());
        }
        if (o == END) {
            // leave END for further calls
            queue.offer(END);
            return null;
        }
        if (o instanceof IOException e) {
            queue.offer(END);
            throw e;
        }
        if (o instanceof RuntimeException e) {
            queue.offer(END);
            throw e;
        }
        if (o instanceof Error e) {
            queue.offer(END);
            throw e;
        }
        chunk = (Entry[]) o;
        chunkLen = chunk.length;
        chunkPos = 1;
        return chunk[0];
    }

    private Entry readOne() throws IOException {
        byte[] line;
        while ((line = reader.next()) != null) {
            number++;
            if (number > skipThrough) {
                return new Entry(number, OutputLine.parse(line, mapper));
            }
        }
        return null;
    }

    private void readAhead() {
        Entry[] buf = new Entry[CHUNK_LINES];
        int n = 0;
        long bytes = 0;
        Object last = END;
        try {
            Entry e;
            while (!closed && (e = readOne()) != null) {
                buf[n++] = e;
                bytes += e.line().raw().length;
                if (n == CHUNK_LINES || bytes >= CHUNK_BYTES) {
                    if (!put(Arrays.copyOf(buf, n))) {
                        return;
                    }
                    n = 0;
                    bytes = 0;
                }
            }
        } catch (Throwable e) {
            // the lines before the failure are delivered first; whatever ends this thread reaches the caller, so
            // that it never waits for lines that will not come
            last = e;
        }
        if (n > 0 && !put(Arrays.copyOf(buf, n))) {
            return;
        }
        put(last);
    }

    /** Hands an item over; false when the reader was closed meanwhile. */
    private boolean put(Object o) {
        try {
            while (!closed) {
                if (queue.offer(o, 100, TimeUnit.MILLISECONDS)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        if (thread != null) {
            queue.clear();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        in.close();
    }
}
