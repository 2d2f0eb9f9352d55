package dev.camelbatch.openaibatch;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Every kind of body the producer accepts, the model and custom_id rules, body parameter defaults, permissions. */
@Timeout(300)
class ProducerInputKindsTest extends CamelTestSupport {

    @TempDir
    static Path tmp;

    static Path storeDir() {
        // not created beforehand: the component creates it
        return tmp.resolve("store");
    }

    static Path inbox() {
        return tmp.resolve("inbox");
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setStoreDirectory(storeDir().toString());
        context.addComponent("openai-batch", component);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("file:" + inbox() + "?initialDelay=0&delay=50&include=.*\\.jsonl")
                        .to("openai-batch:kinds-file?model=gpt-4o-mini")
                        .to("mock:file-done");
            }
        };
    }

    // ------------------------------------------------------------------ helpers

    private Exchange send(String uri, Processor p) {
        Exchange ex = template.request(uri, p);
        assertThat(ex.getException()).as("exception of %s", uri).isNull();
        return ex;
    }

    /** Sends one body and returns the stored request line. */
    private JsonNode sendOne(String name, String options, Object body) {
        Exchange ex = send("openai-batch:" + name + "?" + options, e -> e.getMessage().setBody(body));
        String id = ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
        assertThat(id).isNotBlank();
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(1);
        JsonNode line = Spool.line(storeDir(), name, id);
        assertThat(line).as("stored line of %s", id).isNotNull();
        return line;
    }

    private static String jsonl(String prefix) {
        return "{\"custom_id\":\"" + prefix + "-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
               + "\"body\":{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}}\n"
               + "\n" // blank lines are skipped
               + "{\"messages\":[{\"role\":\"user\",\"content\":\"two\"}]}\r\n"
               + "{\"custom_id\":\"" + prefix + "-3\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
               + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"three\"}]}}"; // no final newline
    }

    private void assertDocumentStored(String name, String prefix, Exchange ex) {
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(3);
        List<JsonNode> lines = Spool.lines(storeDir(), name);
        assertThat(lines).hasSize(3);
        JsonNode one = Spool.line(storeDir(), name, prefix + "-1");
        assertThat(one.path("body").path("model").asText()).isEqualTo("gpt-4o");
        JsonNode three = Spool.line(storeDir(), name, prefix + "-3");
        assertThat(three.path("body").path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(three.path("body").path("messages").path(0).path("content").asText()).isEqualTo("three");
        for (JsonNode l : lines) {
            assertThat(l.path("method").asText()).isEqualTo("POST");
            assertThat(l.path("url").asText()).isEqualTo("/v1/chat/completions");
            assertThat(l.path("custom_id").asText()).isNotBlank();
        }
    }

    // ------------------------------------------------------------------ prompts on each endpoint

    @Test
    void stringPromptOnChatCompletions() {
        JsonNode l = sendOne("kinds-chat", "model=gpt-4o-mini&systemMessage=RAW(Be brief.)", "Hello there");
        assertThat(l.path("method").asText()).isEqualTo("POST");
        assertThat(l.path("url").asText()).isEqualTo("/v1/chat/completions");
        JsonNode body = l.path("body");
        assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(body.path("messages")).hasSize(2);
        assertThat(body.path("messages").path(0).path("role").asText()).isEqualTo("system");
        assertThat(body.path("messages").path(0).path("content").asText()).isEqualTo("Be brief.");
        assertThat(body.path("messages").path(1).path("role").asText()).isEqualTo("user");
        assertThat(body.path("messages").path(1).path("content").asText()).isEqualTo("Hello there");
        // custom_id first, as uploaded
        assertThat(l.fieldNames().next()).isEqualTo("custom_id");
    }

    @Test
    void stringPromptOnResponses() {
        JsonNode l = sendOne("kinds-resp", "endpoint=/v1/responses&model=gpt-4o-mini&systemMessage=RAW(Be brief.)",
                "Hello there");
        assertThat(l.path("url").asText()).isEqualTo("/v1/responses");
        JsonNode body = l.path("body");
        assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(body.path("input").asText()).isEqualTo("Hello there");
        assertThat(body.path("instructions").asText()).isEqualTo("Be brief.");
        assertThat(body.has("messages")).isFalse();
    }

    @Test
    void stringPromptOnEmbeddingsModerationsAndCompletions() {
        JsonNode emb = sendOne("kinds-emb", "endpoint=/v1/embeddings&model=text-embedding-3-small", "embed me");
        assertThat(emb.path("url").asText()).isEqualTo("/v1/embeddings");
        assertThat(emb.path("body").path("input").asText()).isEqualTo("embed me");
        assertThat(emb.path("body").path("model").asText()).isEqualTo("text-embedding-3-small");
        assertThat(emb.path("body").has("messages")).isFalse();

        JsonNode mod = sendOne("kinds-mod", "endpoint=/v1/moderations&model=omni-moderation-latest", "moderate me");
        assertThat(mod.path("url").asText()).isEqualTo("/v1/moderations");
        assertThat(mod.path("body").path("input").asText()).isEqualTo("moderate me");
        assertThat(mod.path("body").path("model").asText()).isEqualTo("omni-moderation-latest");

        JsonNode cmp = sendOne("kinds-cmp", "endpoint=/v1/completions&model=gpt-3.5-turbo-instruct", "complete me");
        assertThat(cmp.path("url").asText()).isEqualTo("/v1/completions");
        assertThat(cmp.path("body").path("prompt").asText()).isEqualTo("complete me");
        assertThat(cmp.path("body").has("input")).isFalse();
    }

    // ------------------------------------------------------------------ structured bodies

    @Test
    void messageListBecomesMessages() {
        List<Map<String, Object>> messages = List.of(
                Map.of("role", "user", "content", "What is 2+2?"),
                Map.of("role", "assistant", "content", "4"),
                Map.of("role", "user", "content", "And 3+3?"));
        JsonNode body = sendOne("kinds-list", "model=gpt-4o-mini&systemMessage=RAW(Be brief.)", messages)
                .path("body");
        assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(body.path("messages")).hasSize(4);
        assertThat(body.path("messages").path(0).path("role").asText()).isEqualTo("system");
        assertThat(body.path("messages").path(3).path("content").asText()).isEqualTo("And 3+3?");

        // a list that has its own system message gets no second one
        List<Map<String, Object>> withSystem = List.of(Map.of("role", "system", "content", "Own."),
                Map.of("role", "user", "content", "Hi"));
        JsonNode body2 = sendOne("kinds-list", "model=gpt-4o-mini&systemMessage=RAW(Be brief.)", withSystem)
                .path("body");
        assertThat(body2.path("messages")).hasSize(2);
        assertThat(body2.path("messages").path(0).path("content").asText()).isEqualTo("Own.");
    }

    @Test
    void listsOnTheOtherEndpoints() {
        JsonNode resp = sendOne("kinds-list-resp", "endpoint=/v1/responses&model=gpt-4o-mini"
                                                   + "&systemMessage=RAW(Be brief.)",
                List.of(Map.of("role", "user", "content", "Hi"))).path("body");
        assertThat(resp.path("input").isArray()).isTrue();
        assertThat(resp.path("input").path(0).path("content").asText()).isEqualTo("Hi");
        assertThat(resp.path("instructions").asText()).isEqualTo("Be brief.");

        JsonNode emb = sendOne("kinds-list-emb", "endpoint=/v1/embeddings&model=text-embedding-3-small",
                List.of("one", "two", "three")).path("body");
        assertThat(emb.path("input")).hasSize(3);
        assertThat(emb.path("input").path(2).asText()).isEqualTo("three");

        JsonNode cmp = sendOne("kinds-list-cmp", "endpoint=/v1/completions&model=gpt-3.5-turbo-instruct",
                List.of("a", "b")).path("body");
        assertThat(cmp.path("prompt")).hasSize(2);
    }

    @Test
    void mapBodyGetsTheModel() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("messages", List.of(Map.of("role", "user", "content", "Hi")));
        map.put("temperature", 0.25);
        map.put("response_format", Map.of("type", "json_object"));
        JsonNode body = sendOne("kinds-map", "model=gpt-4o-mini", map).path("body");
        assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(body.path("temperature").asDouble()).isEqualTo(0.25);
        assertThat(body.path("response_format").path("type").asText()).isEqualTo("json_object");
        assertThat(body.path("messages").path(0).path("content").asText()).isEqualTo("Hi");
    }

    @Test
    void jsonNodeBody() {
        ObjectNode node = Spool.MAPPER.createObjectNode();
        node.putArray("messages").addObject().put("role", "user").put("content", "from a JsonNode");
        node.put("max_tokens", 5);
        JsonNode body = sendOne("kinds-node", "model=gpt-4o-mini", node).path("body");
        assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(body.path("max_tokens").asInt()).isEqualTo(5);
        assertThat(body.path("messages").path(0).path("content").asText()).isEqualTo("from a JsonNode");
        // the caller's node is not modified
        assertThat(node.has("model")).isFalse();
    }

    public static class Msg {
        public String role;
        public String content;

        Msg(String role, String content) {
            this.role = role;
            this.content = content;
        }
    }

    public static class ChatBody {
        public List<Msg> messages = new ArrayList<>();
        public Double temperature;
        private final int seed = 42;

        public int getSeed() {
            return seed;
        }
    }

    @Test
    void pojoBody() {
        ChatBody pojo = new ChatBody();
        pojo.messages.add(new Msg("user", "from a POJO"));
        pojo.temperature = 0.5;
        JsonNode body = sendOne("kinds-pojo", "model=gpt-4o-mini", pojo).path("body");
        assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(body.path("temperature").asDouble()).isEqualTo(0.5);
        assertThat(body.path("seed").asInt()).isEqualTo(42);
        assertThat(body.path("messages").path(0).path("role").asText()).isEqualTo("user");
        assertThat(body.path("messages").path(0).path("content").asText()).isEqualTo("from a POJO");
    }

    @Test
    void readyRequestLineIsTakenAsItIs() {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("method", "POST");
        line.put("url", "/v1/chat/completions");
        line.put("body", Map.of("model", "gpt-4o", "messages", List.of(Map.of("role", "user", "content", "Hi"))));
        line.put("custom_id", "ready-1");
        Exchange ex = send("openai-batch:kinds-line?model=gpt-4o-mini", e -> e.getMessage().setBody(line));
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID)).isEqualTo("ready-1");
        JsonNode l = Spool.line(storeDir(), "kinds-line", "ready-1");
        assertThat(l).isNotNull();
        assertThat(l.path("url").asText()).isEqualTo("/v1/chat/completions");
        assertThat(l.path("method").asText()).isEqualTo("POST");
        // the line's own model wins over the option
        assertThat(l.path("body").path("model").asText()).isEqualTo("gpt-4o");
        assertThat(l.fieldNames().next()).isEqualTo("custom_id");
    }

    // ------------------------------------------------------------------ JSONL documents

    @Test
    void documentAsFile() throws Exception {
        Path f = tmp.resolve("doc-file.jsonl");
        Files.writeString(f, jsonl("docf"));
        File file = f.toFile();
        Exchange ex = send("openai-batch:kinds-doc-file?model=gpt-4o-mini", e -> e.getMessage().setBody(file));
        assertDocumentStored("kinds-doc-file", "docf", ex);
    }

    @Test
    void documentAsPath() throws Exception {
        Path f = tmp.resolve("doc-path.jsonl");
        Files.writeString(f, jsonl("docp"));
        Exchange ex = send("openai-batch:kinds-doc-path?model=gpt-4o-mini", e -> e.getMessage().setBody(f));
        assertDocumentStored("kinds-doc-path", "docp", ex);
    }

    @Test
    void documentAsInputStream() {
        byte[] bytes = jsonl("docs").getBytes(StandardCharsets.UTF_8);
        Exchange ex = send("openai-batch:kinds-doc-stream?model=gpt-4o-mini",
                e -> e.getMessage().setBody(new ByteArrayInputStream(bytes)));
        assertDocumentStored("kinds-doc-stream", "docs", ex);
    }

    @Test
    void documentAsByteArray() {
        byte[] bytes = jsonl("docb").getBytes(StandardCharsets.UTF_8);
        Exchange ex = send("openai-batch:kinds-doc-bytes?model=gpt-4o-mini", e -> e.getMessage().setBody(bytes));
        assertDocumentStored("kinds-doc-bytes", "docb", ex);
    }

    @Test
    void documentWithAUtf8ByteOrderMark() {
        byte[] text = jsonl("docbom").getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[text.length + 3];
        bytes[0] = (byte) 0xEF;
        bytes[1] = (byte) 0xBB;
        bytes[2] = (byte) 0xBF;
        System.arraycopy(text, 0, bytes, 3, text.length);
        Exchange ex = send("openai-batch:kinds-doc-bom?model=gpt-4o-mini", e -> e.getMessage().setBody(bytes));
        assertDocumentStored("kinds-doc-bom", "docbom", ex);
    }

    @Test
    void documentAsGenericFileFromAFileRoute() throws Exception {
        MockEndpoint done = getMockEndpoint("mock:file-done");
        done.expectedMessageCount(1);
        Files.createDirectories(inbox());
        Files.writeString(inbox().resolve("requests.tmp"), jsonl("docg"));
        Files.move(inbox().resolve("requests.tmp"), inbox().resolve("requests.jsonl"));
        done.assertIsSatisfied(10_000);
        Exchange ex = done.getReceivedExchanges().get(0);
        assertThat(ex.getMessage().getBody()).isInstanceOf(GenericFile.class);
        assertDocumentStored("kinds-file", "docg", ex);
    }

    // ------------------------------------------------------------------ body parameters, model, custom_id

    @Test
    void bodyParameterDefaultsAndTheBodysOwnValueWins() {
        String opts = "model=gpt-4o-mini&body.temperature=0&body.max_tokens=64&body.user=alice"
                      + "&body.response_format=RAW({\"type\":\"json_object\"})&body.stop=RAW([\"END\"])";
        JsonNode b1 = sendOne("kinds-params", opts, "Hi").path("body");
        assertThat(b1.path("response_format").isObject()).as("%s", b1).isTrue();
        assertThat(b1.path("response_format").path("type").asText()).isEqualTo("json_object");
        assertThat(b1.path("stop").isArray()).as("%s", b1).isTrue();
        assertThat(b1.path("stop").path(0).asText()).isEqualTo("END");
        assertThat(b1.path("temperature").isNumber()).isTrue();
        assertThat(b1.path("temperature").asDouble()).isEqualTo(0.0);
        assertThat(b1.path("max_tokens").isInt()).isTrue();
        assertThat(b1.path("max_tokens").asInt()).isEqualTo(64);
        assertThat(b1.path("user").isTextual()).isTrue();
        assertThat(b1.path("user").asText()).isEqualTo("alice");

        Map<String, Object> own = new LinkedHashMap<>();
        own.put("messages", List.of(Map.of("role", "user", "content", "Hi")));
        own.put("temperature", 0.9);
        JsonNode b2 = sendOne("kinds-params", opts, own).path("body");
        assertThat(b2.path("temperature").asDouble()).isEqualTo(0.9);
        assertThat(b2.path("max_tokens").asInt()).isEqualTo(64);

        // message lists and documents inherit them too
        JsonNode b3 = sendOne("kinds-params", opts, List.of(Map.of("role", "user", "content", "Hi"))).path("body");
        assertThat(b3.path("max_tokens").asInt()).isEqualTo(64);
        Exchange ex = send("openai-batch:kinds-params?" + opts,
                e -> e.getMessage().setBody("{\"custom_id\":\"params-doc\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"max_tokens\":7,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n"
                        .getBytes(StandardCharsets.UTF_8)));
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(1);
        JsonNode b4 = Spool.line(storeDir(), "kinds-params", "params-doc").path("body");
        assertThat(b4.path("max_tokens").asInt()).isEqualTo(7);
        assertThat(b4.path("temperature").asDouble()).isEqualTo(0.0);
    }

    @Test
    void modelFromOptionHeaderAndBody() {
        String uri = "openai-batch:kinds-model?model=opt-model";
        Exchange fromOption = send(uri, e -> e.getMessage().setBody("a"));
        Exchange fromHeader = send(uri, e -> {
            e.getMessage().setBody("b");
            e.getMessage().setHeader(OpenAIBatchConstants.MODEL, "header-model");
        });
        Exchange fromBody = send(uri, e -> e.getMessage().setBody(Map.of("model", "body-model", "messages",
                List.of(Map.of("role", "user", "content", "c")))));
        // no option at all: the header alone is enough
        Exchange headerOnly = send("openai-batch:kinds-model", e -> {
            e.getMessage().setBody("d");
            e.getMessage().setHeader(OpenAIBatchConstants.MODEL, "header-only");
        });
        assertThat(modelOf("kinds-model", fromOption)).isEqualTo("opt-model");
        assertThat(modelOf("kinds-model", fromHeader)).isEqualTo("header-model");
        assertThat(modelOf("kinds-model", fromBody)).isEqualTo("body-model");
        assertThat(modelOf("kinds-model", headerOnly)).isEqualTo("header-only");
    }

    private String modelOf(String name, Exchange ex) {
        String id = ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
        return Spool.line(storeDir(), name, id).path("body").path("model").asText();
    }

    @Test
    void customIdFromHeaderFromLineOrGenerated() {
        String uri = "openai-batch:kinds-ids?model=gpt-4o-mini";
        Exchange fromHeader = send(uri, e -> {
            e.getMessage().setBody("a");
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "hdr-1");
        });
        assertThat(fromHeader.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID)).isEqualTo("hdr-1");
        assertThat(fromHeader.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(1);

        Map<String, Object> line = Map.of("custom_id", "line-1", "method", "POST", "url", "/v1/chat/completions",
                "body", Map.of("messages", List.of(Map.of("role", "user", "content", "b"))));
        Exchange fromLine = send(uri, e -> e.getMessage().setBody(line));
        assertThat(fromLine.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID)).isEqualTo("line-1");

        // the header wins over the line's own id
        Map<String, Object> line2 = Map.of("custom_id", "line-2", "method", "POST", "url", "/v1/chat/completions",
                "body", Map.of("messages", List.of(Map.of("role", "user", "content", "c"))));
        Exchange headerOverLine = send(uri, e -> {
            e.getMessage().setBody(line2);
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "hdr-2");
        });
        assertThat(headerOverLine.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID)).isEqualTo("hdr-2");

        Set<String> generated = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            Exchange g = send(uri, e -> e.getMessage().setBody("gen"));
            String id = g.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
            assertThat(id).isNotBlank();
            generated.add(id);
        }
        assertThat(generated).hasSize(5);

        List<String> stored = Spool.customIds(storeDir(), "kinds-ids");
        assertThat(stored).contains("hdr-1", "line-1", "hdr-2").containsAll(generated).doesNotContain("line-2")
                .hasSize(8).doesNotHaveDuplicates();
    }

    // ------------------------------------------------------------------ permissions

    @Test
    void storeDirectoryAndFilesAreOwnerOnly() throws Exception {
        send("openai-batch:kinds-perm?model=gpt-4o-mini&carryHeaders=ticketId", e -> {
            e.getMessage().setBody("secret prompt");
            e.getMessage().setHeader("ticketId", "T-1");
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.isDirectory(storeDir()));
        Path nameDir = storeDir().resolve("kinds-perm");
        for (Path d : List.of(storeDir(), nameDir, nameDir.resolve("segments"))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d))).as("%s", d)
                    .isEqualTo("rwx------");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(nameDir.resolve("segments"))) {
            files = s.toList();
        }
        assertThat(files).anyMatch(p -> p.toString().endsWith(".carry.jsonl"))
                .anyMatch(p -> p.toString().endsWith(".state.json"))
                .anyMatch(p -> p.toString().endsWith(".jsonl") && !p.toString().endsWith(".carry.jsonl"));
        for (Path f : files) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).as("%s", f)
                    .isEqualTo("rw-------");
        }
    }
}
