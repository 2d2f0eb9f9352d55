package dev.camelbatch.openaibatch.engine.lines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading with and without the parse-ahead thread. */
@Timeout(120)
class ParsedLineReaderTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void lineReaderSplitsLikeAReferenceWhateverTheBufferSize() throws IOException {
        java.util.Random rnd = new java.util.Random(3);
        String[] pieces = { "{\"a\":1}", "", " ", "\t", "\r", "x", "\u00e9t\u00e9", "y".repeat(300) };
        String[] ends = { "\n", "\r\n", "\n\n", " \n", "\n \t\r\n" };
        for (int round = 0; round < 400; round++) {
            StringBuilder sb = new StringBuilder();
            int lines = rnd.nextInt(30);
            for (int i = 0; i < lines; i++) {
                sb.append(pieces[rnd.nextInt(pieces.length)]);
                if (i < lines - 1 || rnd.nextBoolean()) {
                    sb.append(ends[rnd.nextInt(ends.length)]);
                }
            }
            List<String> expected = new ArrayList<>();
            for (String l : sb.toString().split("\n", -1)) {
                String t = l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
                if (!t.replace(" ", "").replace("\t", "").replace("\r", "").isEmpty()) {
                    expected.add(t);
                }
            }
            int bufferSize = 1 + rnd.nextInt(round % 2 == 0 ? 16 : 4096);
            LineReader r = new LineReader(new java.io.ByteArrayInputStream(
                    sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)), bufferSize, 1 << 20);
            List<String> actual = new ArrayList<>();
            byte[] l;
            while ((l = r.next()) != null) {
                actual.add(new String(l, java.nio.charset.StandardCharsets.UTF_8));
            }
            assertThat(actual).as("round %d, buffer %d: %s", round, bufferSize, sb).isEqualTo(expected);
        }
    }

    @Test
    void parseAheadGivesTheSameLinesInTheSameOrder() throws IOException {
        Path file = dir.resolve("out.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 5000; i++) {
            if (i % 997 == 0) {
                sb.append("not json ").append(i).append('\n');
            } else if (i % 1500 == 0) {
                sb.append("\r\n  \n");
            }
            sb.append("{\"custom_id\":\"r-").append(i).append("\",\"pad\":\"").append("p".repeat(i % 3000))
                    .append("\"}\n");
        }
        Files.writeString(file, sb);
        List<String> inline = read(file, 0, null);
        List<String> ahead = read(file, 0, "test-parse");
        assertThat(inline).hasSize(5005);
        assertThat(ahead).isEqualTo(inline);
        // lines up to the checkpoint are counted but not returned
        assertThat(read(file, 4000, "test-parse")).isEqualTo(inline.subList(4000, inline.size()))
                .isEqualTo(read(file, 4000, null));
    }

    @Test
    void closingEarlyStopsTheThreadAndErrorsReachTheCaller() throws Exception {
        Path file = dir.resolve("big.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            sb.append("{\"custom_id\":\"r-").append(i).append("\"}\n");
        }
        Files.writeString(file, sb);
        ParsedLineReader r = ParsedLineReader.open(file, 1 << 20, MAPPER, 0, "test-parse-close");
        assertThat(r.next().line().customId()).isEqualTo("r-0");
        r.close();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("test-parse-close"));

        Path tooLong = dir.resolve("long.jsonl");
        Files.writeString(tooLong, "{\"custom_id\":\"a\"}\n{\"custom_id\":\"" + "b".repeat(5000) + "\"}\n");
        for (String thread : new String[] { null, "test-parse-long" }) {
            try (ParsedLineReader lr = ParsedLineReader.open(tooLong, 1000, MAPPER, 0, thread)) {
                assertThat(lr.next().number()).isEqualTo(1);
                assertThatThrownBy(lr::next).isInstanceOf(LineReader.LineTooLongException.class)
                        .hasMessageContaining("line 2");
            }
        }
    }

    private static List<String> read(Path file, long skipThrough, String thread) throws IOException {
        List<String> seen = new ArrayList<>();
        try (ParsedLineReader r = ParsedLineReader.open(file, 1 << 20, MAPPER, skipThrough, thread)) {
            ParsedLineReader.Entry e;
            while ((e = r.next()) != null) {
                seen.add(e.number() + ":" + e.line().customId() + ":" + e.line().isObject() + ":"
                         + e.line().raw().length);
            }
            assertThat(r.next()).isNull();
        }
        return seen;
    }
}
