package dev.camelbatch.openaibatch.api;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A minimal multipart/form-data parser for assertions on what the client sent. */
final class Multipart {

    static final class Part {
        final String name;
        final String filename;
        final Map<String, String> headers;
        final byte[] content;

        Part(String name, String filename, Map<String, String> headers, byte[] content) {
            this.name = name;
            this.filename = filename;
            this.headers = headers;
            this.content = content;
        }

        String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    private static final Pattern NAME = Pattern.compile("(?:^|;)\\s*name=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile(";\\s*filename=\"([^\"]*)\"");

    private Multipart() {
    }

    static Map<String, Part> parse(String contentType, byte[] body) {
        Matcher m = Pattern.compile("boundary=\"?([^\";]+)\"?").matcher(contentType);
        if (!m.find()) {
            throw new IllegalArgumentException("no boundary in " + contentType);
        }
        byte[] delimiter = ("--" + m.group(1)).getBytes(StandardCharsets.ISO_8859_1);
        Map<String, Part> parts = new LinkedHashMap<>();
        int pos = indexOf(body, delimiter, 0);
        if (pos < 0) {
            throw new IllegalArgumentException("no delimiter");
        }
        while (true) {
            int afterDelim = pos + delimiter.length;
            if (body.length >= afterDelim + 2 && body[afterDelim] == '-' && body[afterDelim + 1] == '-') {
                break; // closing delimiter
            }
            int headersStart = afterDelim + 2; // CRLF
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), headersStart);
            String headerText = new String(body, headersStart, headersEnd - headersStart, StandardCharsets.UTF_8);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line : headerText.split("\r\n")) {
                int c = line.indexOf(':');
                headers.put(line.substring(0, c).trim().toLowerCase(Locale.ROOT), line.substring(c + 1).trim());
            }
            int contentStart = headersEnd + 4;
            byte[] crlfDelim = new byte[delimiter.length + 2];
            crlfDelim[0] = '\r';
            crlfDelim[1] = '\n';
            System.arraycopy(delimiter, 0, crlfDelim, 2, delimiter.length);
            int next = indexOf(body, crlfDelim, contentStart);
            byte[] content = Arrays.copyOfRange(body, contentStart, next);
            String disposition = headers.getOrDefault("content-disposition", "");
            Matcher nm = NAME.matcher(disposition);
            Matcher fm = FILENAME.matcher(disposition);
            String name = nm.find() ? nm.group(1) : null;
            String filename = fm.find() ? fm.group(1) : null;
            parts.put(name, new Part(name, filename, headers, content));
            pos = next + 2;
        }
        return parts;
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
