package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each validation failure makes the batch {@code failed} with the documented error code, param and line. */
@Timeout(300)
class BatchValidationTest {

    static BatchSimulator sim;
    static SimHttp http;
    static final String OK = SimHttp.chatLine("ok", "gpt-4o-mini", "hi");

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofMillis(5)).linesPerStep(1000)
                .build().start();
        http = new SimHttp(sim);
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    @BeforeEach
    void reset() {
        sim.reset();
    }

    static Stream<Arguments> invalidLines() {
        return Stream.of(
                Arguments.of("{\"custom_id\": broken", "invalid_json_line", null),
                Arguments.of("[1,2,3]", "invalid_json_line", null),
                Arguments.of("{\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"}}",
                        "missing_required_parameter", "custom_id"),
                Arguments.of("{\"custom_id\":\"x\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"}}",
                        "missing_required_parameter", "method"),
                Arguments.of("{\"custom_id\":\"x\",\"method\":\"POST\",\"body\":{\"model\":\"gpt-4o-mini\"}}",
                        "missing_required_parameter", "url"),
                Arguments.of("{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\"}",
                        "missing_required_parameter", "body"),
                Arguments.of("{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":"
                        + "{\"model\":\"gpt-4o-mini\"}}", "invalid_url", "url"),
                Arguments.of("{\"custom_id\":\"x\",\"method\":\"GET\",\"url\":\"/v1/chat/completions\",\"body\":"
                        + "{\"model\":\"gpt-4o-mini\"}}", "invalid_method", "method"),
                Arguments.of("{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                        + "{\"messages\":[]}}", "missing_model", "body.model"),
                Arguments.of(SimHttp.chatLine("x", "gpt-4o", "hi"), "mismatched_model", "body.model"),
                Arguments.of(SimHttp.chatLine("ok", "gpt-4o-mini", "again"), "duplicate_custom_id", "custom_id"),
                Arguments.of("{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                        + "{\"model\":\"gpt-4o-mini\",\"stream\":true}}", "invalid_request", "body.stream"));
    }

    @ParameterizedTest(name = "{1} {2}")
    @MethodSource("invalidLines")
    void invalidSecondLineFailsTheBatch(String badLine, String code, String param) {
        String id = http.submit(OK + "\n" + badLine + "\n", "/v1/chat/completions");
        JsonNode failed = http.awaitStatus(id, "failed", "in_progress", "completed");
        assertThat(failed.get("status").asText()).isEqualTo("failed");
        assertThat(failed.get("failed_at").isIntegralNumber()).isTrue();
        assertThat(failed.get("output_file_id").isNull()).isTrue();
        assertThat(failed.at("/errors/object").asText()).isEqualTo("list");
        JsonNode data = failed.at("/errors/data");
        assertThat(data).hasSize(1);
        JsonNode e = data.get(0);
        assertThat(e.get("code").asText()).isEqualTo(code);
        assertThat(e.get("message").asText()).isNotBlank();
        assertThat(e.get("line").asInt()).isEqualTo(2);
        if (param == null) {
            assertThat(e.get("param").isNull()).isTrue();
        } else {
            assertThat(e.get("param").asText()).isEqualTo(param);
        }
    }

    @Test
    void reportsEveryBadLineWithPhysicalLineNumbers() {
        String id = http.submit("nope\n\n" + OK + "\n{\"x\":1}\n", "/v1/chat/completions");
        JsonNode failed = http.awaitStatus(id, "failed");
        JsonNode data = failed.at("/errors/data");
        assertThat(data).hasSize(2);
        assertThat(data.get(0).get("line").asInt()).isEqualTo(1);
        assertThat(data.get(1).get("line").asInt()).isEqualTo(4);
        assertThat(data.get(1).get("code").asText()).isEqualTo("missing_required_parameter");
    }

    @Test
    void tooManyRequestsWithTheRealLimit() {
        StringBuilder sb = new StringBuilder(3_000_000);
        for (int i = 0; i <= 50_000; i++) {
            sb.append("{\"custom_id\":\"").append(i).append("\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",")
                    .append("\"body\":{\"model\":\"m\",\"input\":\"x\"}}\n");
        }
        String id = http.submit(sb.toString(), "/v1/embeddings");
        JsonNode failed = http.awaitStatus(id, "failed");
        JsonNode e = failed.at("/errors/data/0");
        assertThat(e.get("code").asText()).isEqualTo("too_many_requests");
        assertThat(e.get("line").isNull()).isTrue();
    }

    @Test
    void fileTooLarge() {
        try (BatchSimulator small = BatchSimulator.builder().stepDelay(Duration.ofMillis(5)).maxBatchFileBytes(1000)
                .build().start()) {
            SimHttp h = new SimHttp(small);
            String id = h.submit(SimHttp.calculations(20), "/v1/chat/completions");
            JsonNode e = h.awaitStatus(id, "failed").at("/errors/data/0");
            assertThat(e.get("code").asText()).isEqualTo("file_too_large");
            assertThat(e.get("line").isNull()).isTrue();
        }
    }

    @Test
    void emptyFile() {
        String id = http.submit("\n", "/v1/chat/completions");
        assertThat(http.awaitStatus(id, "failed").at("/errors/data/0/code").asText()).isEqualTo("empty_file");
    }

    @Test
    void enqueuedTokenLimitCountsBatchesInFlight() {
        // a line's prompt estimate: "user" + "Calculate: 1 + i = " = 23..24 chars -> 6 tokens; 10 lines = 60 tokens
        try (BatchSimulator limited = BatchSimulator.builder().stepDelay(Duration.ofMillis(20)).linesPerStep(1)
                .enqueuedTokenLimit("gpt-4o-mini", 100).build().start()) {
            SimHttp h = new SimHttp(limited);
            String first = h.submit(SimHttp.calculations(10), "/v1/chat/completions");
            h.awaitStatus(first, "in_progress");
            limited.makeStuck(first); // holds its 60 tokens

            String second = h.submit(SimHttp.calculations(10), "/v1/chat/completions");
            JsonNode failed = h.awaitStatus(second, "failed", "in_progress");
            assertThat(failed.get("status").asText()).isEqualTo("failed");
            JsonNode e = failed.at("/errors/data/0");
            assertThat(e.get("code").asText()).isEqualTo("token_limit_exceeded");
            assertThat(e.get("line").isNull()).isTrue();
            assertThat(e.get("param").isNull()).isTrue();
            assertThat(e.get("message").asText()).contains("gpt-4o-mini").contains("100");

            // another model is not limited
            String other = h.submit(SimHttp.chatLine("o", "gpt-4o", "hi") + "\n", "/v1/chat/completions");
            assertThat(h.awaitStatus(other, "completed", "failed").get("status").asText()).isEqualTo("completed");

            // when the first batch is done its tokens are released
            limited.unstuck(first);
            h.awaitStatus(first, "completed");
            String third = h.submit(SimHttp.calculations(10), "/v1/chat/completions");
            assertThat(h.awaitStatus(third, "in_progress", "failed").get("status").asText()).isEqualTo("in_progress");

            // a single batch over the limit always fails
            limited.cancelBatch(third);
            h.awaitStatus(third, "cancelled");
            String big = h.submit(SimHttp.calculations(30), "/v1/chat/completions");
            assertThat(h.awaitStatus(big, "failed").at("/errors/data/0/code").asText())
                    .isEqualTo("token_limit_exceeded");
        }
    }
}
