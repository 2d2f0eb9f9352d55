package dev.camelbatch.openaibatch.engine.lines;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Counts the lines of an output or error file and collects their custom ids (as 8-byte hashes) from the bytes as they
 * stream past: fed by the download itself, so the file is not read a second time, or from the file after a restart.
 * Lines are split as {@link LineReader} splits them (blank lines skipped, a trailing CR dropped); a line that lies
 * whole in a chunk is read where it is, without a copy, and lines as OpenAI writes them are not parsed.
 */
public final class LineIdScanner {

    private final ObjectMapper mapper;
    private final long maxLineBytes;
    private final CustomIdSet ids;
    private byte[] carry = new byte[1024];
    private int carryLen;
    private boolean carryTooLong;
    private long lines;
    private long lineNumber;
    private IOException failure;

    /** @param expected how many lines are expected (the requests of the batch), to size the set of ids */
    public LineIdScanner(ObjectMapper mapper, long maxLineBytes, long expected) {
        this.mapper = mapper;
        this.ids = new CustomIdSet((int) Math.max(16, Math.min(1 << 24, expected)));
        this.maxLineBytes = maxLineBytes;
    }

    /** Scans a whole file. */
    public static LineIdScanner scan(Path file, ObjectMapper mapper, long maxLineBytes, long expected) throws IOException {
        LineIdScanner s = new LineIdScanner(mapper, maxLineBytes, expected);
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int r;
            while ((r = in.read(buf)) > 0) {
                s.feed(buf, 0, r);
            }
        }
        s.finish();
        return s;
    }

    /** The next bytes of the file. */
    public void feed(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end) {
            int nl = LineReader.indexOfNewline(b, i, end);
            if (nl < 0) {
                append(b, i, end - i);
                return;
            }
            if (carryLen > 0 || carryTooLong) {
                append(b, i, nl - i);
                line(carry, 0, carryLen, carryTooLong);
                carryLen = 0;
                carryTooLong = false;
            } else {
                line(b, i, nl - i, nl - i > maxLineBytes);
            }
            i = nl + 1;
        }
    }

    /** The end of the file (a last line without a newline counts). */
    public void finish() {
        if (carryLen > 0 || carryTooLong) {
            line(carry, 0, carryLen, carryTooLong);
            carryLen = 0;
            carryTooLong = false;
        }
    }

    /** The number of (non-blank) lines; throws what a line reader would have thrown (a line that is too long). */
    public long lines() throws IOException {
        if (failure != null) {
            throw failure;
        }
        return lines;
    }

    public CustomIdSet ids() {
        return ids;
    }

    private void append(byte[] b, int off, int len) {
        if (carryTooLong) {
            return;
        }
        if ((long) carryLen + len > maxLineBytes) {
            carryTooLong = true;
            carryLen = 0;
            return;
        }
        if (carryLen + len > carry.length) {
            carry = Arrays.copyOf(carry, Math.max(carry.length * 2, carryLen + len));
        }
        System.arraycopy(b, off, carry, carryLen, len);
        carryLen += len;
    }

    private void line(byte[] b, int off, int len, boolean tooLong) {
        lineNumber++;
        if (tooLong) {
            if (failure == null) {
                failure = new LineReader.LineTooLongException(lineNumber, maxLineBytes);
            }
            lines++;
            return;
        }
        if (len > 0 && b[off + len - 1] == '\r') {
            len--;
        }
        boolean blank = true;
        for (int i = off; i < off + len && blank; i++) {
            blank = b[i] == ' ' || b[i] == '\t' || b[i] == '\r';
        }
        if (blank) {
            return;
        }
        lines++;
        long h = RequestLines.customIdHash(mapper, b, off, len);
        if (h != CustomIdSet.EMPTY) {
            // an empty id answers no request
            ids.addHash(h);
        }
    }
}
