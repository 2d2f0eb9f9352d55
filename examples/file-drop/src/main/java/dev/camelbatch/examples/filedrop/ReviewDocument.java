package dev.camelbatch.examples.filedrop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * A review file (CSV with the columns {@code id} and {@code review} or {@code text}, or JSONL with the same fields)
 * read as a JSONL document of Batch API request lines, one row at a time: memory stays flat whatever the file's
 * size. The openai-batch producer takes the stream as one document and spools it whole or not at all, so a bad row
 * (thrown as {@link BadReviewException} from {@link #read}) refuses the file before any of its rows is stored.
 * <p>
 * Each line's {@code custom_id} is {@code <file name>#<row id>}: the API echoes it on the result, which gives the
 * row id back (see {@link #rowId}); the file name also travels as a carried header.
 */
public final class ReviewDocument extends InputStream {

    public static final String SYSTEM_MESSAGE = "You classify the sentiment of product reviews. Answer with exactly one"
                                                + " word: positive, negative or neutral.";
    static final int MAX_ID_LENGTH = 128;
    static final int MAX_TEXT_LENGTH = 20_000;

    private final Rows rows;
    private final String fileName;
    private final String endpoint;
    private final ObjectMapper mapper = new ObjectMapper();
    private byte[] current = new byte[0];
    private int pos;
    private long count;
    private boolean closed;

    private ReviewDocument(Rows rows, String fileName, String endpoint) {
        this.rows = rows;
        this.fileName = fileName;
        this.endpoint = endpoint;
    }

    /** Opens {@code file} as a document of chat-completion requests; CSV unless its name ends with .jsonl/.json. */
    public static ReviewDocument open(Path file) throws IOException {
        String name = file.getFileName().toString();
        Reader reader = strictUtf8(Files.newInputStream(file));
        Rows rows = isJsonl(name) ? new JsonlRows(reader) : new CsvRows(reader);
        return new ReviewDocument(rows, name, "/v1/chat/completions");
    }

    static boolean isJsonl(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".jsonl") || n.endsWith(".json");
    }

    /** The row id in a custom id made by this class. */
    public static String rowId(String customId) {
        int i = customId == null ? -1 : customId.lastIndexOf('#');
        return i < 0 ? customId : customId.substring(i + 1);
    }

    static String customId(String fileName, String rowId) {
        return fileName + "#" + rowId;
    }

    /** Rows turned into request lines so far. */
    public long count() {
        return count;
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        return current[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }

    private boolean fill() throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        while (pos >= current.length) {
            Row row = rows.next();
            if (row == null) {
                return false;
            }
            current = requestLine(row);
            pos = 0;
            count++;
        }
        return true;
    }

    private byte[] requestLine(Row row) throws IOException {
        ObjectNode line = mapper.createObjectNode();
        line.put("custom_id", customId(fileName, row.id()));
        line.put("method", "POST");
        line.put("url", endpoint);
        ObjectNode body = line.putObject("body");
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", SYSTEM_MESSAGE);
        messages.addObject().put("role", "user").put("content", row.text());
        byte[] json = mapper.writeValueAsBytes(line);
        byte[] withNewline = new byte[json.length + 1];
        System.arraycopy(json, 0, withNewline, 0, json.length);
        withNewline[json.length] = '\n';
        return withNewline;
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            rows.close();
        }
    }

    /**
     * The line of {@code file} where its {@code n}-th row (1-based; the n-th request line of the document) starts,
     * for error messages about a request line the producer refused; reads the file again.
     */
    public static long lineOfRow(Path file, long n) {
        String name = file.getFileName().toString();
        try (Reader reader = strictUtf8(Files.newInputStream(file));
             Rows rows = isJsonl(name) ? new JsonlRows(reader) : new CsvRows(reader)) {
            for (long i = 1; ; i++) {
                Row row = rows.next();
                if (row == null) {
                    return -1;
                }
                if (i == n) {
                    return row.line();
                }
            }
        } catch (IOException e) {
            return -1;
        }
    }

    static Reader strictUtf8(InputStream in) {
        return new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT));
    }

    /** One review: its id, its text and the line it starts on. */
    record Row(long line, String id, String text) {
    }

    private interface Rows extends AutoCloseable {
        /** The next row, or null at the end. */
        Row next() throws IOException;

        @Override
        void close() throws IOException;
    }

    static Row checked(long line, String id, String text) throws BadReviewException {
        if (id == null || id.isBlank()) {
            throw new BadReviewException(line, "the review id is empty");
        }
        id = id.strip();
        if (id.length() > MAX_ID_LENGTH) {
            throw new BadReviewException(line, "the review id is longer than " + MAX_ID_LENGTH + " characters");
        }
        for (int i = 0; i < id.length(); i++) {
            if (Character.isISOControl(id.charAt(i))) {
                throw new BadReviewException(line, "the review id contains a control character");
            }
        }
        if (text == null || text.isBlank()) {
            throw new BadReviewException(line, "the review text of id '" + id + "' is empty");
        }
        if (text.length() > MAX_TEXT_LENGTH) {
            throw new BadReviewException(line, "the review text of id '" + id + "' is longer than "
                                               + MAX_TEXT_LENGTH + " characters");
        }
        return new Row(line, id, text.strip());
    }

    private static final Pattern CSV_LINE = Pattern.compile("\\(line (\\d+)\\)");

    /** CSV with a header row naming {@code id} and {@code review} (or {@code text}); other columns are ignored. */
    private static final class CsvRows implements Rows {
        private final CSVParser parser;
        private final Iterator<CSVRecord> it;
        private final String idColumn;
        private final String textColumn;
        private final int columns;

        CsvRows(Reader reader) throws IOException {
            CSVFormat format = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true)
                    .setIgnoreSurroundingSpaces(true).setAllowMissingColumnNames(true)
                    .setIgnoreEmptyLines(false).get(); // blank lines are skipped below, keeping line numbers exact
            try {
                parser = CSVParser.builder().setReader(reader).setFormat(format).get();
            } catch (UncheckedIOException | IllegalArgumentException e) {
                reader.close();
                throw bad(1, e);
            } catch (IOException e) {
                reader.close();
                throw bad(1, e);
            }
            String id = null;
            String text = null;
            for (Map.Entry<String, Integer> h : parser.getHeaderMap().entrySet()) {
                String name = h.getKey() == null ? "" : h.getKey().replace("\uFEFF", "").strip()
                        .toLowerCase(Locale.ROOT);
                if (name.equals("id") && id == null) {
                    id = h.getKey();
                } else if ((name.equals("review") || name.equals("text")) && text == null) {
                    text = h.getKey();
                }
            }
            if (id == null || text == null) {
                parser.close();
                throw new BadReviewException(1, "the header row must name the columns 'id' and 'review' (or"
                                                + " 'text'); found " + parser.getHeaderNames());
            }
            this.idColumn = id;
            this.textColumn = text;
            this.columns = parser.getHeaderNames().size();
            this.it = parser.iterator();
        }

        @Override
        public Row next() throws IOException {
            long start = parser.getCurrentLineNumber() + 1;
            CSVRecord r;
            try {
                if (!it.hasNext()) {
                    return null;
                }
                r = it.next();
            } catch (UncheckedIOException | IllegalStateException e) {
                throw bad(start, e);
            }
            if (r.size() == 1 && r.get(0).isEmpty()) {
                return next(); // a blank line
            }
            if (r.size() != columns) {
                throw new BadReviewException(start, "expected " + columns + " fields as in the header, found "
                                                    + r.size());
            }
            return checked(start, r.get(idColumn), r.get(textColumn));
        }

        private static BadReviewException bad(long line, Exception e) {
            Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
            if (cause instanceof CharacterCodingException) {
                return new BadReviewException(line, "the file is not valid UTF-8");
            }
            String msg = cause != null && cause.getMessage() != null ? cause.getMessage() : e.toString();
            Matcher m = CSV_LINE.matcher(msg);
            long at = m.find() ? Long.parseLong(m.group(1)) : line;
            BadReviewException b = new BadReviewException(at, "not valid CSV: " + msg);
            b.initCause(e);
            return b;
        }

        @Override
        public void close() throws IOException {
            parser.close();
        }
    }

    /** JSONL: one object per line with {@code id} (string or number) and {@code review} or {@code text}. */
    private static final class JsonlRows implements Rows {
        private final BufferedReader reader;
        private final ObjectMapper mapper = new ObjectMapper();
        private long line;

        JsonlRows(Reader reader) {
            this.reader = new BufferedReader(reader, 1 << 16);
        }

        @Override
        public Row next() throws IOException {
            while (true) {
                String s;
                try {
                    s = reader.readLine();
                } catch (CharacterCodingException e) {
                    throw new BadReviewException(line + 1, "the file is not valid UTF-8");
                }
                if (s == null) {
                    return null;
                }
                line++;
                if (s.isBlank()) {
                    continue;
                }
                JsonNode n;
                try {
                    n = mapper.readTree(s);
                } catch (JsonProcessingException e) {
                    throw new BadReviewException(line, "not valid JSON: " + e.getOriginalMessage());
                }
                if (!n.isObject()) {
                    throw new BadReviewException(line, "a line must be a JSON object with 'id' and 'review'");
                }
                JsonNode id = n.get("id");
                JsonNode text = n.has("review") ? n.get("review") : n.get("text");
                if (id != null && !id.isTextual() && !id.isIntegralNumber()) {
                    throw new BadReviewException(line, "'id' must be a string or an integer");
                }
                if (text != null && !text.isTextual()) {
                    throw new BadReviewException(line, "'review' must be a string");
                }
                return checked(line, id == null ? null : id.asText(), text == null ? null : text.asText());
            }
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }
}
