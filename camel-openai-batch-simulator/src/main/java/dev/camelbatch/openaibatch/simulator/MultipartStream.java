package dev.camelbatch.openaibatch.simulator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A streaming multipart/form-data reader (RFC 7578 / RFC 2046). Part bodies are copied straight from the request
 * stream to their destination through a fixed-size buffer, so arbitrarily large uploads need constant memory.
 */
final class MultipartStream {

    private static final int MAX_HEADER_BYTES = 16 * 1024;

    private final InputStream in;
    private final byte[] delimiter; // CRLF "--" boundary
    private final byte[] buf;
    private int pos;
    private int lim;
    private boolean eof;
    private boolean started;
    private boolean finished;
    private boolean bodyPending;

    MultipartStream(InputStream in, String boundary) {
        this.in = in;
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        this.buf = new byte[Math.max(64 * 1024, delimiter.length * 4)];
        // a virtual CRLF in front lets the first boundary be found like all the others
        buf[0] = '\r';
        buf[1] = '\n';
        lim = 2;
    }

    /** Extracts the boundary parameter of a multipart Content-Type, or null. */
    static String boundaryOf(String contentType) {
        if (contentType == null) {
            return null;
        }
        String lower = contentType.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("multipart/form-data")) {
            return null;
        }
        Map<String, String> params = parameters(contentType);
        String b = params.get("boundary");
        return b == null || b.isEmpty() || b.length() > 70 ? null : b;
    }

    /** One part's headers. */
    record Part(String name, String filename, String contentType) {
    }

    /** Advances to the next part (skipping the rest of the current one); null after the closing boundary. */
    Part nextPart() throws IOException {
        if (finished) {
            return null;
        }
        if (!started || bodyPending) {
            copyBody(OutputStream.nullOutputStream(), Long.MAX_VALUE);
            started = true;
        }
        ensure(2);
        if (lim - pos < 2) {
            throw malformed("unexpected end of the multipart body");
        }
        if (buf[pos] == '-' && buf[pos + 1] == '-') {
            finished = true;
            return null;
        }
        readLine(); // rest of the boundary line (transport padding + CRLF)
        Map<String, String> headers = new LinkedHashMap<>();
        int total = 0;
        while (true) {
            String line = readLine();
            total += line.length() + 2;
            if (total > MAX_HEADER_BYTES) {
                throw malformed("multipart part headers too large");
            }
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        String disposition = headers.get("content-disposition");
        if (disposition == null) {
            throw malformed("multipart part without Content-Disposition");
        }
        Map<String, String> p = parameters(disposition);
        bodyPending = true;
        return new Part(p.get("name"), p.get("filename"), headers.get("content-type"));
    }

    /**
     * Copies the current part's body to {@code out}; returns its size.
     *
     * @throws ApiException 400 if the part is longer than {@code max} bytes
     */
    long copyBody(OutputStream out, long max) throws IOException {
        long total = 0;
        while (true) {
            int idx = indexOfDelimiter();
            if (idx >= 0) {
                total += idx - pos;
                if (total > max) {
                    throw tooLarge(max);
                }
                out.write(buf, pos, idx - pos);
                pos = idx + delimiter.length;
                bodyPending = false;
                return total;
            }
            int safeEnd = Math.max(pos, lim - (delimiter.length - 1));
            total += safeEnd - pos;
            if (total > max) {
                throw tooLarge(max);
            }
            out.write(buf, pos, safeEnd - pos);
            pos = safeEnd;
            if (eof) {
                throw malformed("unexpected end of the multipart body (no closing boundary)");
            }
            fill();
        }
    }

    /** Reads the current part's body as UTF-8 text of at most {@code max} bytes. */
    String readText(int max) throws IOException {
        java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
        copyBody(bos, max);
        return bos.toString(StandardCharsets.UTF_8);
    }

    private int indexOfDelimiter() {
        byte first = delimiter[0];
        int last = lim - delimiter.length;
        outer:
        for (int i = pos; i <= last; i++) {
            if (buf[i] != first) {
                continue;
            }
            for (int j = 1; j < delimiter.length; j++) {
                if (buf[i + j] != delimiter[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= lim) {
                if (eof) {
                    throw malformed("unexpected end of the multipart headers");
                }
                fill();
                continue;
            }
            byte b = buf[pos++];
            if (b == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return new String(sb.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            }
            sb.append((char) (b & 0xff));
            if (sb.length() > MAX_HEADER_BYTES) {
                throw malformed("multipart header line too long");
            }
        }
    }

    private void ensure(int n) throws IOException {
        while (lim - pos < n && !eof) {
            fill();
        }
    }

    private void fill() throws IOException {
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        if (lim == buf.length) {
            return;
        }
        int r = in.read(buf, lim, buf.length - lim);
        if (r < 0) {
            eof = true;
        } else {
            lim += r;
        }
    }

    /** Parses {@code value; a=b; c="d"} parameters (names lower-cased). */
    static Map<String, String> parameters(String headerValue) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = headerValue.indexOf(';');
        if (i < 0) {
            return out;
        }
        int n = headerValue.length();
        i++;
        while (i < n) {
            while (i < n && (headerValue.charAt(i) == ' ' || headerValue.charAt(i) == '\t' || headerValue.charAt(i) == ';')) {
                i++;
            }
            int eq = headerValue.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String name = headerValue.substring(i, eq).trim().toLowerCase(Locale.ROOT);
            i = eq + 1;
            String value;
            if (i < n && headerValue.charAt(i) == '"') {
                StringBuilder sb = new StringBuilder();
                i++;
                while (i < n && headerValue.charAt(i) != '"') {
                    char c = headerValue.charAt(i);
                    if (c == '\\' && i + 1 < n) {
                        c = headerValue.charAt(++i);
                    }
                    sb.append(c);
                    i++;
                }
                i++; // closing quote
                value = sb.toString();
            } else {
                int end = headerValue.indexOf(';', i);
                if (end < 0) {
                    end = n;
                }
                value = headerValue.substring(i, end).trim();
                i = end;
            }
            out.putIfAbsent(name, value);
        }
        return out;
    }

    private static ApiException malformed(String why) {
        return ApiException.badRequest("Could not parse multipart form: " + why + ".", null, null);
    }

    private static ApiException tooLarge(long max) {
        return new ApiException(413, "File is too large: the maximum upload size is " + max + " bytes.",
                "invalid_request_error", "file", "file_too_large");
    }
}
