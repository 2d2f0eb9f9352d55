package dev.camelbatch.openaibatch.reliability;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bad-input corpus of the reliability suite: malformed and hostile inputs, each of which must fail its own
 * exchange with a specific error (exception type and a message naming the field or line), after which a valid request
 * still succeeds. The corpus and its outcomes are reported in docs/reliability.md.
 */
@Timeout(300)
class BadInputCorpusTest extends CamelTestSupport {

    /** Every case's store lies under this folder, which JUnit deletes after the class. */
    @TempDir
    static Path tempRoot;

    private Path storeDir;
    private static final List<String> REPORT = new ArrayList<>();

    @Override
    protected CamelContext createCamelContext() throws Exception {
        storeDir = Files.createTempDirectory(tempRoot, "bad-input-");
        CamelContext context = super.createCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        context.addComponent("openai-batch", component);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:chat").to("openai-batch:corpus?model=gpt-4o-mini&maxBatchBytes=20000&carryHeaders=ctx*");
                from("direct:embed").to("openai-batch:corpus-embed?endpoint=/v1/embeddings&model=text-embedding-3-small");
                from("direct:nomodel").to("openai-batch:corpus-nomodel");
                from("direct:badendpoint").to("openai-batch:corpus-bad?endpoint=/v1/images/generations&model=x&lazyStartProducer=true");
            }
        };
    }

    record Case(String name, String uri, Consumer<Message> input, Class<? extends Exception> type, String contains) {
        @Override
        public String toString() {
            return name;
        }
    }

    static String doc(String... lines) {
        return String.join("\n", lines) + "\n";
    }

    static String line(String id, String content) {
        return "{\"custom_id\":\"" + id + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
               + "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}}";
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Stream<Arguments> corpus() {
        List<Case> c = new ArrayList<>();
        Class<InvalidRequestException> inv = InvalidRequestException.class;
        c.add(new Case("broken JSON line", "direct:chat", m -> m.setBody(bytes("{\"custom_id\": \n")), inv,
                "line 1: not valid JSON"));
        c.add(new Case("one bad line in the middle of a document", "direct:chat",
                m -> m.setBody(bytes(doc(line("m1", "a"), line("m2", "b"), "{oops", line("m4", "d")))), inv,
                "line 3"));
        c.add(new Case("truncated last line", "direct:chat",
                m -> m.setBody(bytes(line("t1", "a") + "\n" + line("t2", "b").substring(0, 40))), inv, "line 2"));
        c.add(new Case("huge single prompt over maxBatchBytes", "direct:chat", m -> m.setBody("x".repeat(30_000)), inv,
                "over the batch byte limit"));
        c.add(new Case("huge line in a document", "direct:chat",
                m -> m.setBody(bytes(doc(line("h1", "a"), line("h2", "y".repeat(30_000))))), inv, "line 2"));
        c.add(new Case("request line for another endpoint", "direct:chat", m -> m.setBody(Map.of("custom_id", "u1",
                "method", "POST", "url", "/v1/embeddings", "body", Map.of("model", "m", "input", "x"))), inv,
                "differs from the batch endpoint"));
        c.add(new Case("method GET", "direct:chat", m -> m.setBody(Map.of("custom_id", "g1", "method", "GET", "url",
                "/v1/chat/completions", "body", Map.of("model", "m", "messages", List.of(Map.of("role", "user",
                        "content", "x"))))), inv, "method must be POST"));
        c.add(new Case("no model anywhere", "direct:nomodel", m -> m.setBody("hello"), inv, "model is missing"));
        c.add(new Case("blank model", "direct:chat", m -> m.setBody(Map.of("model", "  ", "messages",
                List.of(Map.of("role", "user", "content", "x")))), inv, "model is missing"));
        c.add(new Case("model not a string", "direct:chat", m -> m.setBody(Map.of("model", 42, "messages",
                List.of(Map.of("role", "user", "content", "x")))), inv, "model is missing"));
        c.add(new Case("stream: true", "direct:chat", m -> m.setBody(Map.of("stream", true, "messages",
                List.of(Map.of("role", "user", "content", "x")))), inv, "stream"));
        c.add(new Case("duplicate custom id of a spooled request", "direct:chat", m -> {
            m.setHeader(OpenAIBatchConstants.CUSTOM_ID, "dup-1");
            m.setBody("second time");
        }, DuplicateCustomIdException.class, "dup-1"));
        c.add(new Case("duplicate custom id inside a document", "direct:chat",
                m -> m.setBody(bytes(doc(line("dd", "a"), line("dd", "b")))), inv, "line 2"));
        c.add(new Case("custom id header of the wrong type", "direct:chat", m -> {
            m.setHeader(OpenAIBatchConstants.CUSTOM_ID, 12345);
            m.setBody("x");
        }, inv, "must be a String"));
        c.add(new Case("empty custom id header", "direct:chat", m -> {
            m.setHeader(OpenAIBatchConstants.CUSTOM_ID, "");
            m.setBody("x");
        }, inv, "is empty"));
        c.add(new Case("custom id of 600 characters", "direct:chat", m -> {
            m.setHeader(OpenAIBatchConstants.CUSTOM_ID, "c".repeat(600));
            m.setBody("x");
        }, inv, "over the limit of 512"));
        c.add(new Case("model name of 300 characters", "direct:chat", m -> {
            m.setHeader(OpenAIBatchConstants.MODEL, "m".repeat(300));
            m.setBody("x");
        }, inv, "model is 300 characters, over the limit of 256"));
        c.add(new Case("flush header of the wrong type", "direct:chat", m -> {
            m.setHeader(OpenAIBatchConstants.FLUSH, List.of("yes"));
            m.setBody("x");
        }, inv, OpenAIBatchConstants.FLUSH));
        c.add(new Case("non-UTF-8 bytes in a document", "direct:chat", m -> {
            byte[] good = bytes(line("n1", "ok") + "\n");
            byte[] bad = bytes(line("n2", "caf__") + "\n");
            int i = new String(bad, StandardCharsets.ISO_8859_1).indexOf("__");
            bad[i] = (byte) 0xC3;
            bad[i + 1] = (byte) 0x28;
            byte[] all = new byte[good.length + bad.length];
            System.arraycopy(good, 0, all, 0, good.length);
            System.arraycopy(bad, 0, all, good.length, bad.length);
            m.setBody(all);
        }, inv, "line 2"));
        c.add(new Case("empty body", "direct:chat", m -> m.setBody(null), inv, "body is empty"));
        c.add(new Case("a number as body", "direct:chat", m -> m.setBody(42), inv, "was NUMBER"));
        c.add(new Case("an object Jackson cannot serialise", "direct:chat", m -> m.setBody(new Unserialisable()), inv,
                "cannot be serialised to JSON"));
        c.add(new Case("a list of numbers for chat", "direct:chat", m -> m.setBody(List.of(1, 2, 3)), inv,
                "chat messages"));
        c.add(new Case("request line whose body is a string", "direct:chat", m -> m.setBody(Map.of("custom_id", "s1",
                "method", "POST", "url", "/v1/chat/completions", "body", "hello")), inv, "must be a JSON object"));
        c.add(new Case("request line with a numeric custom id", "direct:chat",
                m -> m.setBody(bytes("{\"custom_id\":7,\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                                     + "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n")),
                inv, "custom_id must be a non-empty string"));
        c.add(new Case("JSONL line that is an array", "direct:chat", m -> m.setBody(bytes("[1,2,3]\n")), inv,
                "must be a JSON object"));
        c.add(new Case("JSONL line that is a string", "direct:chat", m -> m.setBody(bytes("\"hello\"\n")), inv,
                "must be a JSON object"));
        c.add(new Case("document of blank lines only", "direct:chat", m -> m.setBody(bytes("\n  \n\n")), inv,
                "no request lines"));
        c.add(new Case("NaN in a document", "direct:chat", m -> m.setBody(bytes("{\"model\":\"m\",\"temperature\":NaN,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n")), inv, "not valid JSON"));
        c.add(new Case("JSON nested 5000 levels deep", "direct:chat",
                m -> m.setBody(bytes("{\"model\":\"m\",\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}\n")), inv,
                "not valid JSON"));
        c.add(new Case("messages is not an array", "direct:chat", m -> m.setBody(Map.of("messages", "hi")), inv,
                "messages must be a non-empty array"));
        c.add(new Case("empty messages", "direct:chat", m -> m.setBody(Map.of("messages", List.of())), inv,
                "messages must be a non-empty array"));
        c.add(new Case("embeddings request with 50 001 inputs", "direct:embed",
                m -> m.setBody(java.util.Collections.nCopies(50_001, "a")), inv, "over the limit of 50000"));
        c.add(new Case("embeddings request without input", "direct:embed", m -> m.setBody(Map.of("dimensions", 8)),
                inv, "needs 'input'"));
        c.add(new Case("carried header of type Date", "direct:chat", m -> {
            m.setHeader("ctxWhen", new Date());
            m.setBody("x");
        }, inv, "ctxWhen"));
        c.add(new Case("carried header of an arbitrary type", "direct:chat", m -> {
            m.setHeader("ctxObj", new StringBuilder("not a string"));
            m.setBody("x");
        }, inv, "ctxObj"));
        c.add(new Case("stream that fails while read", "direct:chat", m -> m.setBody(new java.io.InputStream() {
            private int n;

            @Override
            public int read() throws java.io.IOException {
                if (n++ < 10) {
                    return '{';
                }
                throw new java.io.IOException("connection lost while reading the document");
            }
        }), java.io.IOException.class, "connection lost"));
        return c.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void eachBadInputFailsItsOwnExchangeAndTheNextRequestSucceeds(Case c) throws Exception {
        if (c.name().startsWith("duplicate custom id of a spooled")) {
            Exchange first = template.request(c.uri(), e -> {
                e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "dup-1");
                e.getMessage().setBody("first time");
            });
            assertThat(first.getException()).isNull();
        }
        Exchange bad = template.request(c.uri(), e -> c.input().accept(e.getMessage()));
        assertThat(bad.getException()).as(c.name()).isInstanceOf(c.type());
        assertThat(bad.getException().getMessage()).as(c.name()).contains(c.contains());
        synchronized (REPORT) {
            REPORT.add("| " + c.name() + " | `" + bad.getException().getClass().getSimpleName() + "` | "
                       + bad.getException().getMessage().replace("|", "\\|").replace("\n", " ") + " |");
        }
        Exchange good = template.request(c.uri().equals("direct:nomodel") ? "direct:chat" : c.uri(),
                e -> e.getMessage().setBody(c.uri().equals("direct:embed") ? "a text to embed" : "a valid prompt"));
        assertThat(good.getException()).as("a valid request after '%s'", c.name()).isNull();
        assertThat(good.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class)).isNotBlank();
    }

    @Test
    void anInvalidEndpointOptionFailsClearlyAndOtherEndpointsWork() {
        Exchange bad = template.request("direct:badendpoint", e -> e.getMessage().setBody("x"));
        assertThat(bad.getException()).isNotNull();
        assertThat(bad.getException()).hasStackTraceContaining("is not a batch endpoint");
        assertThat(template.request("direct:chat", e -> e.getMessage().setBody("ok")).getException()).isNull();
    }

    @Test
    void aDocumentMixingModelsIsAcceptedAndSplitByModel() {
        Exchange ok = template.request("direct:chat", e -> e.getMessage().setBody(bytes(doc(
                "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}",
                "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"b\"}]}"))));
        assertThat(ok.getException()).isNull();
        assertThat(ok.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(2);
    }

    @AfterAll
    static void writeReport() throws Exception {
        Path report = Path.of("target", "bad-input-corpus.md");
        Files.createDirectories(report.getParent());
        List<String> lines = new ArrayList<>();
        lines.add("| Input | Exception | Message |");
        lines.add("|---|---|---|");
        lines.addAll(REPORT);
        Files.write(report, lines);
    }

    /** A bean whose getter fails: Jackson cannot turn it into JSON. */
    public static final class Unserialisable {
        public String getValue() {
            throw new IllegalStateException("no value");
        }
    }

    static ByteArrayInputStream stream(String s) {
        return new ByteArrayInputStream(bytes(s));
    }
}
