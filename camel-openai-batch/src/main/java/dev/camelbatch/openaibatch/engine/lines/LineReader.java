package dev.camelbatch.openaibatch.engine.lines;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Splits a byte stream into lines ({@code \n}, a preceding {@code \r} dropped) without decoding, holding one line at
 * a time. Blank lines are skipped.
 */
public final class LineReader {

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final InputStream in;
    private final long maxLineBytes;
    private final byte[] buf;
    private int pos;
    private int limit;
    private byte[] line = new byte[256];
    private long lineNumber;
    private boolean lastLineTerminated = true;

    public LineReader(InputStream in, int bufferSize, long maxLineBytes) {
        this.in = in;
        this.buf = new byte[bufferSize];
        this.maxLineBytes = maxLineBytes;
    }

    /** The next non-blank line, or {@code null} at the end of the stream. */
    public byte[] next() throws IOException {
        // a line that lies whole in the buffer is copied out of it once
        while (pos < limit) {
            int nl = indexOfNewline(buf, pos, limit);
            if (nl < 0) {
                break;
            }
            int start = pos;
            int end = nl;
            if (end - start > maxLineBytes) {
                // the general path reports it
                break;
            }
            pos = nl + 1;
            lastLineTerminated = true;
            lineNumber++;
            if (end > start && buf[end - 1] == '\r') {
                end--;
            }
            if (!isBlank(buf, start, end)) {
                return Arrays.copyOfRange(buf, start, end);
            }
        }
        int len = nextSlice();
        return len < 0 ? null : Arrays.copyOf(line, len);
    }

    /**
     * Reads the next non-blank line into {@link #lineBuffer()} without copying it out; returns its length, or -1 at
     * the end of the stream. The buffer's content is valid until the next call.
     */
    public int nextSlice() throws IOException {
        while (true) {
            int len = 0;
            boolean any = false;
            while (true) {
                if (pos >= limit) {
                    limit = in.read(buf, 0, buf.length);
                    pos = 0;
                    if (limit <= 0) {
                        limit = 0;
                        if (!any) {
                            return -1;
                        }
                        lastLineTerminated = false;
                        break;
                    }
                }
                any = true;
                int start = pos;
                int nl = indexOfNewline(buf, pos, limit);
                int end = nl >= 0 ? nl : limit;
                int chunk = end - start;
                if (len + chunk > maxLineBytes) {
                    throw new LineTooLongException(lineNumber + 1, maxLineBytes);
                }
                if (len + chunk > line.length) {
                    line = Arrays.copyOf(line, Math.max(line.length * 2, len + chunk));
                }
                System.arraycopy(buf, start, line, len, chunk);
                len += chunk;
                pos = end;
                if (nl >= 0) {
                    pos++;
                    lastLineTerminated = true;
                    break;
                }
            }
            lineNumber++;
            if (len > 0 && line[len - 1] == '\r') {
                len--;
            }
            if (!isBlank(line, len)) {
                return len;
            }
            if (!lastLineTerminated) {
                return -1;
            }
        }
    }

    /** The array holding the line that {@link #nextSlice()} read last (longer than the line). */
    public byte[] lineBuffer() {
        return line;
    }

    /** The 1-based number of the line last returned (blank lines count). */
    public long lineNumber() {
        return lineNumber;
    }

    /** Whether the last line read ended with a newline (false: the stream ended in the middle of a line). */
    public boolean lastLineTerminated() {
        return lastLineTerminated;
    }

    private static boolean isBlank(byte[] b, int len) {
        return isBlank(b, 0, len);
    }

    private static boolean isBlank(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    public static void forEachLine(InputStream in, int bufferSize, long maxLineBytes, Consumer<byte[]> consumer)
            throws IOException {
        LineReader r = new LineReader(in, bufferSize, maxLineBytes);
        byte[] l;
        while ((l = r.next()) != null) {
            consumer.accept(l);
        }
    }

    /** A line longer than allowed. */
    public static class LineTooLongException extends IOException {
        private final long lineNumber;

        public LineTooLongException(long lineNumber, long max) {
            super("line " + lineNumber + " is longer than " + max + " bytes");
            this.lineNumber = lineNumber;
        }

        public long getLineNumber() {
            return lineNumber;
        }
    }

    /** The index of the first {@code \n} in {@code b[from, to)}, or -1; eight bytes at a time. */
    static int indexOfNewline(byte[] b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(b, i) ^ 0x0A0A0A0A0A0A0A0AL;
            // the high bit of each byte of x that is zero (a newline in b), exactly
            long t = ~(((x & 0x7F7F7F7F7F7F7F7FL) + 0x7F7F7F7F7F7F7F7FL) | x | 0x7F7F7F7F7F7F7F7FL);
            if (t != 0) {
                return i + (Long.numberOfTrailingZeros(t) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
