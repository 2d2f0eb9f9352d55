package dev.camelbatch.examples.filedrop;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(120)
class ReviewDocumentTest {

    @TempDir
    Path dir;

    private final ObjectMapper mapper = new ObjectMapper();

    private List<JsonNode> lines(String name, String content) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content, StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = ReviewDocument.open(f)) {
            in.transferTo(out);
        }
        return out.toString(StandardCharsets.UTF_8).lines().map(l -> {
            try {
                return mapper.readTree(l);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    private Path write(String name, byte[] content) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, content);
        return f;
    }

    @Test
    void csvRowsBecomeChatRequestLinesWithTheRowIdInTheCustomId() throws Exception {
        List<JsonNode> l = lines("r.csv", "id,review\n7,\"Nice, really\"\n\n8,Bad\n");
        assertThat(l).hasSize(2);
        JsonNode first = l.get(0);
        assertThat(first.get("custom_id").asText()).isEqualTo("r.csv#7");
        assertThat(ReviewDocument.rowId(first.get("custom_id").asText())).isEqualTo("7");
        assertThat(first.get("url").asText()).isEqualTo("/v1/chat/completions");
        assertThat(first.at("/body/messages/0/role").asText()).isEqualTo("system");
        assertThat(first.at("/body/messages/0/content").asText()).contains("positive, negative or neutral");
        assertThat(first.at("/body/messages/1/content").asText()).isEqualTo("Nice, really");
        assertThat(l.get(1).get("custom_id").asText()).isEqualTo("r.csv#8");
    }

    @Test
    void badRowsNameTheirLine() throws Exception {
        Map<String, String> cases = Map.of(
                "id,review\n1,ok\n,no id\n", "line 3: the review id is empty",
                "id,review\n1,ok\n2,ok\n3,\n", "line 4: the review text of id '3' is empty",
                "id,review\n1,ok\n2,ok,extra\n", "line 3: expected 2 fields",
                "id,review\n1,ok\n2,\"open\n3,x\n", "line 3: not valid CSV",
                "name,comment\n1,ok\n", "line 1: the header row must name the columns 'id' and 'review'");
        int i = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String name = "bad" + (i++) + ".csv";
            assertThatThrownBy(() -> lines(name, c.getKey())).as(c.getKey()).isInstanceOf(BadReviewException.class)
                    .hasMessageStartingWith(c.getValue());
        }
        assertThatThrownBy(() -> lines("bad.jsonl", "{\"id\":1,\"review\":\"a\"}\n\n{\"id\":2,\n"))
                .isInstanceOf(BadReviewException.class).hasMessageStartingWith("line 3: not valid JSON");
        assertThatThrownBy(() -> lines("bad2.jsonl", "{\"id\":{},\"review\":\"a\"}\n"))
                .isInstanceOf(BadReviewException.class).hasMessageStartingWith("line 1: 'id' must be");
    }

    @Test
    void invalidUtf8IsRefused() throws Exception {
        Path f = write("latin1.csv", "id,review\n1,caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> {
            try (InputStream in = ReviewDocument.open(f)) {
                in.transferTo(new ByteArrayOutputStream());
            }
        }).isInstanceOf(BadReviewException.class).hasMessageContaining("not valid UTF-8");
    }

    @Test
    void lineOfRowFollowsMultiLineFieldsAndBlankLines() throws Exception {
        Path f = write("m.csv", "id,review\n1,\"two\nlines\"\n\n2,x\n3,y\n".getBytes(StandardCharsets.UTF_8));
        assertThat(ReviewDocument.lineOfRow(f, 1)).isEqualTo(2);
        assertThat(ReviewDocument.lineOfRow(f, 2)).isEqualTo(5);
        assertThat(ReviewDocument.lineOfRow(f, 3)).isEqualTo(6);
        Path j = write("m.jsonl", "{\"id\":1,\"text\":\"a\"}\n\n{\"id\":2,\"text\":\"b\"}\n".getBytes(StandardCharsets.UTF_8));
        assertThat(ReviewDocument.lineOfRow(j, 2)).isEqualTo(3);
    }

    @Test
    void sentimentWordsAreRecognisedAndAnythingElseKept() {
        assertThat(Sentiment.of(" Positive.")).isEqualTo("positive");
        assertThat(Sentiment.of("NEGATIVE")).isEqualTo("negative");
        assertThat(Sentiment.of("neutral\n")).isEqualTo("neutral");
        assertThat(Sentiment.of("Echo: great")).isEqualTo("Echo: great");
        assertThat(Sentiment.category("Echo: great")).isEqualTo("other");
    }

    @Test
    void settingsFollowTheEnvironment() {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("fileDrop.dir", dir.toString());
        FileDropSettings demo = FileDropSettings.fromEnvironment(Map.of(), p);
        assertThat(demo.demo()).isTrue();
        assertThat(demo.inbox()).isEqualTo(dir.resolve("inbox"));
        assertThat(demo.exitWhenDone()).isTrue();
        FileDropSettings blank = FileDropSettings.fromEnvironment(Map.of("OPENAI_API_KEY", " "), p);
        assertThat(blank.demo()).isTrue();
        p.setProperty("fileDrop.model", "gpt-4.1-nano");
        FileDropSettings real = FileDropSettings.fromEnvironment(
                Map.of("OPENAI_API_KEY", "sk-x", "OPENAI_BASE_URL", "https://example.invalid/v1"), p);
        assertThat(real.demo()).isFalse();
        assertThat(real.apiKey()).isEqualTo("sk-x");
        assertThat(real.baseUrl()).isEqualTo("https://example.invalid/v1");
        assertThat(real.model()).isEqualTo("gpt-4.1-nano");
        assertThat(real.exitWhenDone()).isFalse();
        assertThat(real.storeDirectory()).isEqualTo(dir.resolve("store"));
        assertThat(FileDropSettings.fromEnvironment(Map.of("OPENAI_API_KEY", "sk-x"), p).baseUrl()).isNull();
    }
}
