package dev.camelbatch.openaibatch.simulator;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads a JSONL file line by line with a bound on the line length, so a malformed file (say one 200 MB line)
 * cannot exhaust the heap. Blank lines are skipped; {@link #lineNumber()} is the 1-based physical line number of the
 * line last returned.
 */
final class JsonlReader implements Closeable {

    private final InputStream in;
    private final int maxLineBytes;
    private byte[] buf = new byte[8192];
    private final byte[] chunk = new byte[64 * 1024];
    private int cpos;
    private int clim;
    private long lineNumber;
    private boolean lastTooLong;

    JsonlReader(Path path, int maxLineBytes) throws IOException {
        this.in = Files.newInputStream(path);
        this.maxLineBytes = maxLineBytes;
    }

    /** The next non-blank line, or null at the end. If the line was too long, returns "" and sets {@link #tooLong()}. */
    String next() throws IOException {
        while (true) {
            int len = 0;
            boolean overflow = false;
            int b;
            boolean any = false;
            while ((b = read()) >= 0) {
                any = true;
                if (b == '\n') {
                    break;
                }
                if (overflow) {
                    continue;
                }
                if (len == maxLineBytes) {
                    overflow = true;
                    continue;
                }
                if (len == buf.length) {
                    buf = Arrays.copyOf(buf, Math.min(maxLineBytes, buf.length * 2));
                }
                buf[len++] = (byte) b;
            }
            if (!any) {
                return null;
            }
            lineNumber++;
            if (overflow) {
                lastTooLong = true;
                return "";
            }
            lastTooLong = false;
            if (len > 0 && buf[len - 1] == '\r') {
                len--;
            }
            if (isBlank(len)) {
                if (b < 0) {
                    return null;
                }
                continue;
            }
            String line = new String(buf, 0, len, StandardCharsets.UTF_8);
            if (buf.length > 1 << 20) {
                buf = new byte[8192]; // do not keep a huge buffer around
            }
            return line;
        }
    }

    private int read() throws IOException {
        if (cpos == clim) {
            int r = in.read(chunk, 0, chunk.length);
            if (r <= 0) {
                return -1;
            }
            cpos = 0;
            clim = r;
        }
        return chunk[cpos++] & 0xff;
    }

    private boolean isBlank(int len) {
        for (int i = 0; i < len; i++) {
            byte c = buf[i];
            if (c != ' ' && c != '\t' && c != '\r') {
                return false;
            }
        }
        return true;
    }

    boolean tooLong() {
        return lastTooLong;
    }

    long lineNumber() {
        return lineNumber;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
