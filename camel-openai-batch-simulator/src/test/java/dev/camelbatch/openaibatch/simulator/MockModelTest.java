package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class MockModelTest {

    static JsonNode run(String endpoint, String line) throws Exception {
        MockModel.Outcome o = MockModel.execute(endpoint, SimHttp.JSON.readTree(line), 1_700_000_000L);
        return SimHttp.JSON.readTree(o.line());
    }

    @Test
    void answersCalculationsAndEchoes() {
        assertThat(MockModel.answer("Calculate: 1 + 41 = ")).isEqualTo("1 + 41 = 42");
        assertThat(MockModel.answer("Calculate: 1 + 99999999999999999999 = "))
                .isEqualTo("1 + 99999999999999999999 = 100000000000000000000");
        assertThat(MockModel.answer("hello")).isEqualTo("Echo: hello");
        assertThat(MockModel.estimateTokens(0)).isEqualTo(1);
        assertThat(MockModel.estimateTokens(4)).isEqualTo(1);
        assertThat(MockModel.estimateTokens(5)).isEqualTo(2);
    }

    @Test
    void chatUsesTheLastUserMessageIncludingContentParts() throws Exception {
        JsonNode out = run("/v1/chat/completions", "{\"custom_id\":\"c\",\"body\":{\"model\":\"m\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"first\"},"
                + "{\"role\":\"assistant\",\"content\":\"ok\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                + "\"text\":\"Calculate: 1 + 2 = \"}]}]}}");
        JsonNode body = out.at("/response/body");
        assertThat(body.at("/choices/0/message/content").asText()).isEqualTo("1 + 2 = 3");
        assertThat(body.get("created").asLong()).isEqualTo(1_700_000_000L);
        assertThat(body.get("id").asText()).startsWith("chatcmpl-");
        assertThat(body.get("system_fingerprint").asText()).isNotBlank();
        assertThat(body.at("/choices/0/logprobs").isNull()).isTrue();
        // "be brief" + "system" + "user" + "first" + "assistant" + "ok" + "user" + "text" + "Calculate: 1 + 2 = "
        int chars = "be brief".length() + 6 + 4 + 5 + 9 + 2 + 4 + 4 + "Calculate: 1 + 2 = ".length();
        assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo((chars + 3) / 4);
        assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(("1 + 2 = 3".length() + 3) / 4);
    }

    @Test
    void responsesEndpoint() throws Exception {
        JsonNode body = run("/v1/responses", "{\"custom_id\":\"r\",\"body\":{\"model\":\"gpt-4.1\",\"input\":[{\"role\":"
                + "\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"hi\"}]}]}}").at("/response/body");
        assertThat(body.get("object").asText()).isEqualTo("response");
        assertThat(body.get("status").asText()).isEqualTo("completed");
        assertThat(body.get("output_text").asText()).isEqualTo("Echo: hi");
        assertThat(body.at("/output/0/type").asText()).isEqualTo("message");
        assertThat(body.at("/output/0/role").asText()).isEqualTo("assistant");
        assertThat(body.at("/output/0/content/0/type").asText()).isEqualTo("output_text");
        assertThat(body.at("/output/0/content/0/text").asText()).isEqualTo("Echo: hi");
        assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(
                body.at("/usage/input_tokens").asInt() + body.at("/usage/output_tokens").asInt());
        assertThat(body.at("/usage/input_tokens_details/cached_tokens").isInt()).isTrue();
        assertThat(body.at("/usage/output_tokens_details/reasoning_tokens").isInt()).isTrue();
    }

    @Test
    void completionsEmbeddingsModerations() throws Exception {
        JsonNode c = run("/v1/completions", "{\"custom_id\":\"c\",\"body\":{\"model\":\"i\",\"prompt\":[\"a\","
                + "\"Calculate: 1 + 5 = \"]}}").at("/response/body");
        assertThat(c.get("object").asText()).isEqualTo("text_completion");
        assertThat(c.at("/choices/0/text").asText()).isEqualTo("Echo: a");
        assertThat(c.at("/choices/1/text").asText()).isEqualTo("1 + 5 = 6");

        JsonNode e = run("/v1/embeddings", "{\"custom_id\":\"e\",\"body\":{\"model\":\"emb\",\"input\":[\"a\",\"b\"]}}")
                .at("/response/body");
        assertThat(e.get("object").asText()).isEqualTo("list");
        assertThat(e.get("data")).hasSize(2);
        assertThat(e.at("/data/0/object").asText()).isEqualTo("embedding");
        assertThat(e.at("/data/0/embedding")).hasSize(8);
        assertThat(e.at("/data/0/embedding")).isNotEqualTo(e.at("/data/1/embedding"));
        JsonNode again = run("/v1/embeddings", "{\"custom_id\":\"e\",\"body\":{\"model\":\"emb\",\"input\":\"a\"}}")
                .at("/response/body");
        assertThat(again.at("/data/0/embedding")).isEqualTo(e.at("/data/0/embedding")); // deterministic
        assertThat(e.at("/usage/prompt_tokens").asInt()).isEqualTo(e.at("/usage/total_tokens").asInt());
        JsonNode b64 = run("/v1/embeddings", "{\"custom_id\":\"e\",\"body\":{\"model\":\"emb\",\"input\":\"a\","
                + "\"encoding_format\":\"base64\",\"dimensions\":4}}").at("/response/body");
        assertThat(java.util.Base64.getDecoder().decode(b64.at("/data/0/embedding").asText())).hasSize(16);

        JsonNode m = run("/v1/moderations", "{\"custom_id\":\"m\",\"body\":{\"model\":\"omni\",\"input\":\"x\"}}")
                .at("/response/body");
        assertThat(m.at("/results/0/flagged").asBoolean()).isFalse();
        assertThat(m.at("/results/0/categories/violence").asBoolean()).isFalse();
        assertThat(m.at("/results/0/category_scores/violence").isNumber()).isTrue();
    }

    @Test
    void markersAnywhereInTheBody() throws Exception {
        assertThat(MockModel.marker(SimHttp.JSON.readTree("{\"a\":[{\"b\":\"xx FAIL_500\"}],\"c\":\"FAIL_TIMEOUT\"}")))
                .isEqualTo("FAIL_500");
        assertThat(MockModel.marker(SimHttp.JSON.readTree("{\"a\":\"FAIL_400\",\"c\":\"FAIL_500\"}")))
                .isEqualTo("FAIL_400");
        assertThat(MockModel.marker(SimHttp.JSON.readTree("{\"a\":\"fine\"}"))).isNull();
        MockModel.Outcome o = MockModel.execute("/v1/embeddings",
                SimHttp.JSON.readTree("{\"custom_id\":\"e\",\"body\":{\"model\":\"emb\",\"input\":\"FAIL_TIMEOUT\"}}"), 1);
        assertThat(o.success()).isFalse();
        assertThat(SimHttp.JSON.readTree(o.line()).at("/error/code").asText()).isEqualTo("request_timeout");
    }
}
