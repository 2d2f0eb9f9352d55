package dev.camelbatch.openaibatch.engine.lines;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.engine.usage.TokenUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The streaming reading of output lines against a reference that reads the whole tree (the way the component read
 * lines before): the same ids, status, model, usage, content, error and body for hand-written lines of every kind and
 * for thousands of generated ones with fields in any order, unknown fields, nulls and wrong types.
 */
@Timeout(120)
class OutputLineTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static final String CHAT = "{\"id\":\"batch_req_1\",\"custom_id\":\"r-1\",\"response\":{\"status_code\":200,"
                               + "\"request_id\":\"req_1\",\"body\":{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","
                               + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                               + "\"assistant\",\"content\":\"1 + 1 = 2\",\"refusal\":null},\"finish_reason\":\"stop\"}],"
                               + "\"usage\":{\"prompt_tokens\":24,\"completion_tokens\":9,\"total_tokens\":33,"
                               + "\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":"
                               + "{\"reasoning_tokens\":2}}}},\"error\":null}";

    @ParameterizedTest
    @ValueSource(strings = {
            CHAT,
            // pretty-printed, fields reordered, unicode and escapes in the content
            "{ \"error\" : null, \"response\" : { \"body\" : { \"usage\" : { \"total_tokens\" : 3 },"
            + " \"choices\" : [ { \"message\" : { \"content\" : \"caf\\u00e9 \\\"quoted\\\"\\n\u00fcber\" } } ],"
            + " \"model\" : \"m\" }, \"status_code\" : 200 }, \"custom_id\" : \"r-\\u0032\", \"id\" : \"x\" }",
            // names written with escapes where the expected name stands, and expected names as values
            "{\"id\":\"custom_id\",\"custom\\u005fid\":\"c\",\"response\":{\"status_cod\\u0065\":201,\"body\":"
            + "{\"id\":\"object\",\"model\":\"m\",\"usage\":{\"prompt_tokens\":1,\"completion\\u005Ftokens\":2,"
            + "\"prompt_tokens_details\":{\"audio_tokens\":1,\"cached_tokens\":5},\"total_tokens\":3}}},\"error\":null}",
            // completions
            "{\"id\":\"b\",\"custom_id\":\"c\",\"response\":{\"status_code\":200,\"body\":{\"model\":\"gpt-3.5-turbo-instruct\","
            + "\"choices\":[{\"text\":\" yes\",\"index\":0},{\"text\":\"no\"}],\"usage\":{\"prompt_tokens\":1,"
            + "\"completion_tokens\":2,\"total_tokens\":3}}},\"error\":null}",
            // responses with and without output_text
            "{\"custom_id\":\"r\",\"response\":{\"status_code\":200,\"request_id\":\"q\",\"body\":{\"model\":\"gpt-4.1\","
            + "\"output_text\":\"hello\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\","
            + "\"text\":\"hello\"}]}],\"usage\":{\"input_tokens\":10,\"input_tokens_details\":{\"cached_tokens\":3},"
            + "\"output_tokens\":5,\"output_tokens_details\":{\"reasoning_tokens\":1},\"total_tokens\":15}}}}",
            "{\"custom_id\":\"r\",\"response\":{\"status_code\":200,\"body\":{\"model\":\"gpt-4.1\",\"output\":[{\"type\":"
            + "\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"a\"},{\"type\":\"output_text\","
            + "\"text\":\"b\"}]}],\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}}}",
            // embeddings
            "{\"id\":\"e\",\"custom_id\":\"emb\",\"response\":{\"status_code\":200,\"body\":{\"object\":\"list\",\"data\":"
            + "[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.1,-0.2,3e-3]}],\"model\":\"text-embedding-3-small\","
            + "\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}},\"error\":null}",
            // chat answer without text (tool call)
            "{\"custom_id\":\"t\",\"response\":{\"status_code\":200,\"body\":{\"choices\":[{\"message\":{\"content\":null,"
            + "\"tool_calls\":[{\"id\":\"call\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}}}",
            // error-file line
            "{\"id\":\"batch_req_2\",\"custom_id\":\"r-2\",\"response\":null,\"error\":{\"code\":\"batch_expired\","
            + "\"message\":\"This request could not be executed before the completion window expired.\"}}",
            // HTTP errors in the body: with a code, with a type only, with nothing
            "{\"id\":\"x\",\"custom_id\":\"r-3\",\"response\":{\"status_code\":400,\"request_id\":\"q\",\"body\":{\"error\":"
            + "{\"message\":\"Invalid model\",\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":\"model_not_found\"}}},"
            + "\"error\":null}",
            "{\"custom_id\":\"r-4\",\"response\":{\"status_code\":500,\"body\":{\"error\":{\"type\":\"server_error\"}}}}",
            "{\"custom_id\":\"r-5\",\"response\":{\"status_code\":429,\"body\":{}}}",
            // odd shapes: body a string, status a string, numeric error code, usage with floats and nulls
            "{\"custom_id\":\"r-6\",\"response\":{\"status_code\":\"200\",\"body\":\"plain\"}}",
            "{\"custom_id\":7,\"response\":{\"status_code\":200,\"body\":null},\"error\":{\"code\":42,\"message\":null}}",
            "{\"custom_id\":\"r-8\",\"response\":{\"status_code\":200,\"body\":{\"model\":null,\"usage\":{\"prompt_tokens\":"
            + "2.0,\"completion_tokens\":null,\"total_tokens\":\"3\"},\"choices\":[]}}}",
            "{\"custom_id\":\"r-9\",\"extra\":{\"response\":{\"status_code\":500}},\"response\":{\"status_code\":201,"
            + "\"body\":{\"nested\":{\"usage\":{\"prompt_tokens\":99}},\"usage\":{\"prompt_tokens\":1}}}}",
            // numbers as the tree took them: a float status truncated, counts beyond a long left out
            "{\"custom_id\":\"r-13\",\"response\":{\"status_code\":200.0,\"body\":{\"usage\":{\"prompt_tokens\":"
            + "99999999999999999999,\"completion_tokens\":1e30,\"total_tokens\":7.9}}}}",
            "{\"custom_id\":\"r-14\",\"response\":{\"status_code\":429.9,\"body\":{}}}",
            "{\"custom_id\":\"r-16\",\"response\":{\"status_code\":200,\"body\":{\"usage\":{\"prompt_tokens\":null,"
            + "\"input_tokens\":5,\"output_tokens\":2}}}}",
            "{\"custom_id\":\"r-15\",\"response\":{\"status_code\":4294967296,\"body\":{}}}",
            "{}",
            "[1,2]",
            "\"text\"",
            "{\"custom_id\":\"r-10\",\"response\":{\"status_code\":200,\"body\":{\"broken\":",
            "not json at all {\"custom_id\":\"r-11\"}",
            "{\"custom_id\":\"r-12\"} trailing"
    })
    void readsLikeTheTree(String line) throws Exception {
        assertSame(line);
    }

    @Test
    void generatedLinesReadLikeTheTree() throws Exception {
        Random rnd = new Random(42);
        for (int i = 0; i < 5000; i++) {
            assertSame(MAPPER.writeValueAsString(randomLine(rnd)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"custom_id\":\"r-1\",\"method\":\"POST\"}|r-1",
            "{\"id\":\"batch_req_1\",\"custom_id\":\"r-2\",\"response\":null}|r-2",
            "{\"id\":\"batch_req_1\",\"custom_id\":\"r-3\",\"response\":{\"status_code\":200,\"body\":{\"ch|r-3",
            "{\"id\":\"b\\\"q\",\"custom_id\":\"r-4\"}|r-4",
            "{\"id\":\"b\",\"custom_id\":\"r\\u002d5\"}|r-5",
            "{\"id\":null,\"custom_id\":\"r-6\"}|r-6",
            "{ \"id\" : \"b\", \"custom_id\" : \"r-7\" }|r-7",
            "{\"response\":{\"custom_id\":\"inner\"},\"custom_id\":\"r-8\"}|r-8",
            "{\"id\":\"b\",\"other\":1}|",
            "<<garbage>>|",
            "{\"id\":\"b\",\"custom_id\":\"\u00e9t\u00e9\"}|\u00e9t\u00e9"
    })
    void customIdsAreReadWithOrWithoutTheParser(String testCase) {
        String line = testCase.substring(0, testCase.lastIndexOf('|'));
        String expected = testCase.substring(testCase.lastIndexOf('|') + 1);
        byte[] bytes = (line + "trailing bytes beyond the length").getBytes(StandardCharsets.UTF_8);
        int len = line.getBytes(StandardCharsets.UTF_8).length;
        assertThat(RequestLines.customId(MAPPER, bytes, len)).as(line).isEqualTo(expected);
        assertThat(RequestLines.customId(MAPPER, line.getBytes(StandardCharsets.UTF_8))).as(line).isEqualTo(expected);
    }

    @Test
    void bodyIsCopiedFromTheLineNotReserialized() throws Exception {
        OutputLine l = OutputLine.parse(CHAT.getBytes(StandardCharsets.UTF_8), MAPPER);
        String body = l.bodyJson();
        assertThat(CHAT).contains(body);
        assertThat(MAPPER.readTree(body)).isEqualTo(MAPPER.readTree(CHAT).path("response").path("body"));
        assertThat(l.usage()).isEqualTo(new TokenUsage(24, 4, 9, 2));
    }

    private static void assertSame(String line) throws Exception {
        byte[] raw = line.getBytes(StandardCharsets.UTF_8);
        OutputLine l = OutputLine.parse(raw, MAPPER);
        Reference ref = Reference.of(raw);
        String what = "line " + line;
        assertThat(l.isObject()).as(what).isEqualTo(ref.tree != null);
        if (ref.tree == null) {
            assertThat(l.parseError()).as(what).isNotBlank();
            assertThat(l.tree()).isNull();
            return;
        }
        assertThat(l.id()).as(what).isEqualTo(ref.id);
        assertThat(l.customId()).as(what).isEqualTo(ref.customId);
        assertThat(l.statusCode()).as(what).isEqualTo(ref.statusCode);
        assertThat(l.requestId()).as(what).isEqualTo(ref.requestId);
        assertThat(l.errorCode()).as(what).isEqualTo(ref.errorCode);
        assertThat(l.errorMessage()).as(what).isEqualTo(ref.errorMessage);
        assertThat(l.hasBody()).as(what).isEqualTo(ref.body != null && !ref.body.isNull());
        assertThat(l.bodyIsObject()).as(what).isEqualTo(ref.body != null && ref.body.isObject());
        if (ref.body != null && ref.body.isObject()) {
            assertThat(l.model()).as(what).isEqualTo(ref.body.hasNonNull("model") ? ref.body.get("model").asText() : null);
            JsonNode usage = ref.body.get("usage");
            assertThat(l.hasUsage()).as(what).isEqualTo(usage != null && usage.isObject());
            assertThat(l.usage()).as(what).isEqualTo(expectedUsage(usage));
            if (usage != null && usage.isObject()) {
                assertThat(l.promptTokens()).as(what).isEqualTo(ref.prompt);
                assertThat(l.completionTokens()).as(what).isEqualTo(ref.completion);
                assertThat(l.totalTokens()).as(what).isEqualTo(ref.total);
                assertThat(l.cachedTokens()).as(what).isEqualTo(ref.cached);
                assertThat(l.reasoningTokens()).as(what).isEqualTo(ref.reasoning);
            }
            JsonNode c = ref.body.path("choices").path(0).path("message").path("content");
            assertThat(l.chatContent()).as(what).isEqualTo(c.isTextual() ? c.asText() : null);
            JsonNode t = ref.body.path("choices").path(0).path("text");
            assertThat(l.completionText()).as(what).isEqualTo(t.isTextual() ? t.asText() : null);
        }
        assertThat(l.body()).as(what).isEqualTo(ref.body);
        String bodyJson = l.bodyJson();
        if (ref.body == null || ref.body.isNull()) {
            assertThat(bodyJson).as(what).isNull();
        } else {
            assertThat(MAPPER.readTree(bodyJson)).as(what).isEqualTo(ref.body);
        }
        assertThat(l.tree()).as(what).isEqualTo(ref.tree);
    }

    /**
     * {@link TokenUsage#ofResponse} with counts that a long cannot hold left out (0) instead of wrapped around, as the
     * headers always did.
     */
    private static TokenUsage expectedUsage(JsonNode usage) {
        if (usage == null || !usage.isObject()) {
            return null;
        }
        boolean chat = usage.has("prompt_tokens") || usage.has("completion_tokens");
        return new TokenUsage(count(usage.path(chat ? "prompt_tokens" : "input_tokens")),
                count(usage.path(chat ? "prompt_tokens_details" : "input_tokens_details").path("cached_tokens")),
                count(usage.path(chat ? "completion_tokens" : "output_tokens")),
                count(usage.path(chat ? "completion_tokens_details" : "output_tokens_details").path("reasoning_tokens")));
    }

    private static long count(JsonNode n) {
        return n.canConvertToLong() ? n.asLong() : 0;
    }

    /** The tree-based reading, as the component did it before the streaming parser. */
    static final class Reference {
        JsonNode tree;
        JsonNode body;
        String id;
        String customId;
        Integer statusCode;
        String requestId;
        String errorCode;
        String errorMessage;
        Long prompt;
        Long completion;
        Long total;
        Long cached;
        Long reasoning;

        static Reference of(byte[] raw) {
            Reference r = new Reference();
            JsonNode n;
            try {
                n = MAPPER.readTree(raw);
            } catch (Exception e) {
                return r;
            }
            if (n == null || !n.isObject()) {
                return r;
            }
            r.tree = n;
            JsonNode id = n.get("id");
            r.id = id != null && id.isTextual() ? id.asText() : null;
            JsonNode cid = n.get("custom_id");
            r.customId = cid != null && cid.isTextual() ? cid.asText() : null;
            JsonNode resp = n.get("response");
            if (resp != null && resp.isObject()) {
                JsonNode sc = resp.get("status_code");
                r.statusCode = sc != null && sc.canConvertToInt() ? sc.asInt() : null;
                JsonNode rid = resp.get("request_id");
                r.requestId = rid != null && !rid.isNull() && !rid.isContainerNode() ? rid.asText() : null;
                r.body = resp.get("body");
                if (r.statusCode != null && r.statusCode >= 400) {
                    JsonNode e = resp.path("body").path("error");
                    r.errorCode = text(e.get("code")) != null ? text(e.get("code"))
                            : text(e.get("type")) != null ? text(e.get("type")) : "http_" + r.statusCode;
                    r.errorMessage = text(e.get("message")) != null ? text(e.get("message")) : "HTTP " + r.statusCode;
                }
                if (r.body != null && r.body.isObject() && r.body.get("usage") != null
                        && r.body.get("usage").isObject()) {
                    JsonNode u = r.body.get("usage");
                    r.prompt = num(u.has("prompt_tokens") && num(u.get("prompt_tokens")) != null
                            ? u.get("prompt_tokens") : u.get("input_tokens"));
                    r.completion = num(u.has("completion_tokens") && num(u.get("completion_tokens")) != null
                            ? u.get("completion_tokens") : u.get("output_tokens"));
                    r.total = num(u.get("total_tokens"));
                    r.cached = num(u.has("prompt_tokens_details")
                            ? u.path("prompt_tokens_details").get("cached_tokens")
                            : u.path("input_tokens_details").get("cached_tokens"));
                    r.reasoning = num(u.has("completion_tokens_details")
                            ? u.path("completion_tokens_details").get("reasoning_tokens")
                            : u.path("output_tokens_details").get("reasoning_tokens"));
                }
            }
            JsonNode err = n.get("error");
            if (err != null && err.isObject()) {
                r.errorCode = text(err.get("code")) != null ? text(err.get("code")) : "error";
                r.errorMessage = text(err.get("message"));
            }
            return r;
        }

        private static String text(JsonNode n) {
            return n == null || n.isNull() || n.isContainerNode() ? null : n.asText();
        }

        private static Long num(JsonNode n) {
            return n != null && n.canConvertToLong() ? n.asLong() : null;
        }
    }

    private static ObjectNode randomLine(Random rnd) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        List<Runnable> fields = new ArrayList<>();
        ObjectNode line = f.objectNode();
        fields.add(() -> line.set("id", pick(rnd, f.textNode("batch_req_" + rnd.nextInt(1000)), f.nullNode(),
                f.numberNode(5))));
        fields.add(() -> line.set("custom_id", pick(rnd, f.textNode("r-" + rnd.nextInt(1000)),
                f.textNode("\u00e9\"\\"), f.nullNode())));
        fields.add(() -> {
            if (rnd.nextInt(5) == 0) {
                line.putNull("response");
                return;
            }
            ObjectNode resp = line.putObject("response");
            int status = pick(rnd, 200, 200, 200, 400, 429, 500);
            List<Runnable> rf = new ArrayList<>();
            rf.add(() -> resp.put("status_code", status));
            rf.add(() -> resp.set("request_id", pick(rnd, f.textNode("req_" + rnd.nextInt(99)), f.nullNode())));
            rf.add(() -> resp.set("body", status >= 400 ? errorBody(rnd, f) : pick(rnd, okBody(rnd, f), f.nullNode(),
                    okBody(rnd, f))));
            rf.add(() -> resp.put("unknown", "x"));
            shuffleRun(rnd, rf);
        });
        fields.add(() -> line.set("error", pick(rnd, f.nullNode(), f.nullNode(), errorObject(rnd, f))));
        fields.add(() -> line.set("extra", OutputLineTest.<JsonNode> pick(rnd, f.arrayNode().add(1).add(f.objectNode().put("usage", 3)),
                f.objectNode().set("response", f.objectNode().put("status_code", 500)))));
        shuffleRun(rnd, fields);
        return line;
    }

    private static JsonNode okBody(Random rnd, JsonNodeFactory f) {
        ObjectNode b = f.objectNode();
        List<Runnable> bf = new ArrayList<>();
        bf.add(() -> b.set("model", pick(rnd, f.textNode("gpt-4o-mini"), f.nullNode(), f.numberNode(1))));
        bf.add(() -> {
            ArrayNode choices = b.putArray("choices");
            int n = rnd.nextInt(3);
            for (int i = 0; i < n; i++) {
                ObjectNode c = choices.addObject();
                c.put("index", i);
                if (rnd.nextBoolean()) {
                    c.putObject("message").set("content", pick(rnd, f.textNode("answer " + i), f.nullNode(),
                            f.arrayNode().add("part")));
                } else {
                    c.set("text", pick(rnd, f.textNode("text " + i), f.nullNode()));
                }
            }
        });
        bf.add(() -> {
            ObjectNode u = b.putObject("usage");
            boolean chat = rnd.nextBoolean();
            u.put(chat ? "prompt_tokens" : "input_tokens", rnd.nextInt(100));
            if (rnd.nextBoolean()) {
                u.set(chat ? "completion_tokens" : "output_tokens", pick(rnd, f.numberNode(rnd.nextInt(50)),
                        f.nullNode(), f.numberNode(2.5)));
            }
            u.put("total_tokens", rnd.nextInt(150));
            if (rnd.nextBoolean()) {
                u.putObject(chat ? "prompt_tokens_details" : "input_tokens_details").put("cached_tokens",
                        rnd.nextInt(10));
            }
            if (rnd.nextBoolean()) {
                u.putObject(chat ? "completion_tokens_details" : "output_tokens_details").put("reasoning_tokens",
                        rnd.nextInt(10));
            }
        });
        bf.add(() -> b.put("output_text", "out"));
        bf.add(() -> b.set("data", f.arrayNode().add(f.objectNode().set("embedding", f.arrayNode().add(0.5)))));
        shuffleRun(rnd, bf.subList(0, 1 + rnd.nextInt(bf.size())));
        return b;
    }

    private static JsonNode errorBody(Random rnd, JsonNodeFactory f) {
        ObjectNode b = f.objectNode();
        if (rnd.nextInt(4) > 0) {
            b.set("error", errorObject(rnd, f));
        }
        return b;
    }

    private static JsonNode errorObject(Random rnd, JsonNodeFactory f) {
        ObjectNode e = f.objectNode();
        List<Runnable> ef = new ArrayList<>();
        ef.add(() -> e.set("code", pick(rnd, f.textNode("rate_limit_exceeded"), f.nullNode(), f.numberNode(7))));
        ef.add(() -> e.set("type", pick(rnd, f.textNode("server_error"), f.nullNode())));
        ef.add(() -> e.set("message", pick(rnd, f.textNode("it failed"), f.nullNode())));
        ef.add(() -> e.set("param", f.nullNode()));
        shuffleRun(rnd, ef.subList(0, rnd.nextInt(ef.size() + 1)));
        return e;
    }

    private static void shuffleRun(Random rnd, List<Runnable> tasks) {
        List<Runnable> copy = new ArrayList<>(tasks);
        java.util.Collections.shuffle(copy, rnd);
        copy.forEach(Runnable::run);
    }

    @SafeVarargs
    private static <T> T pick(Random rnd, T... options) {
        return options[rnd.nextInt(options.length)];
    }
}
