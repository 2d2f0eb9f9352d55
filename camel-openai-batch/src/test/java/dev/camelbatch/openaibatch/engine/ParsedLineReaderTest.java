package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading with and without the parse-ahead thread. */
class ParsedLineReaderTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

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
