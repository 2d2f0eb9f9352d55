package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(300)
class BatchLifecycleTest {

    static BatchSimulator sim;
    static SimHttp http;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofMillis(5)).linesPerStep(10).seed(7L)
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

    @Test
    void runsToCompletedWithShuffledCorrectOutput() {
        int n = 45;
        String fileId = http.upload(SimHttp.calculations(n));
        SimHttp.Resp created = http.createBatch(fileId, "/v1/chat/completions", Map.of("segment", "s-1"));
        assertThat(created.status()).isEqualTo(200);
        JsonNode b = created.json();
        assertThat(b.get("status").asText()).isEqualTo("validating");
        assertThat(b.get("object").asText()).isEqualTo("batch");
        assertThat(b.get("id").asText()).startsWith("batch_");
        assertThat(b.get("input_file_id").asText()).isEqualTo(fileId);
        assertThat(b.get("completion_window").asText()).isEqualTo("24h");
        assertThat(b.get("expires_at").asLong()).isEqualTo(b.get("created_at").asLong() + 86400);
        assertThat(b.get("output_file_id").isNull()).isTrue();
        assertThat(b.get("errors").isNull()).isTrue();
        assertThat(b.get("model").isNull()).isTrue();
        assertThat(b.get("usage").isNull()).isTrue();
        assertThat(b.get("metadata").get("segment").asText()).isEqualTo("s-1");
        assertThat(b.get("request_counts").get("total").asInt()).isZero();
        String id = b.get("id").asText();

        JsonNode done = http.awaitStatus(id, "completed");
        assertThat(done.get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(done.get("request_counts").get("total").asInt()).isEqualTo(n);
        assertThat(done.get("request_counts").get("completed").asInt()).isEqualTo(n);
        assertThat(done.get("request_counts").get("failed").asInt()).isZero();
        assertThat(done.get("in_progress_at").isIntegralNumber()).isTrue();
        assertThat(done.get("finalizing_at").isIntegralNumber()).isTrue();
        assertThat(done.get("completed_at").isIntegralNumber()).isTrue();
        assertThat(done.get("error_file_id").isNull()).isTrue();
        assertThat(done.get("usage").get("input_tokens").asLong()).isPositive();
        assertThat(done.get("usage").get("total_tokens").asLong()).isEqualTo(
                done.get("usage").get("input_tokens").asLong() + done.get("usage").get("output_tokens").asLong());

        String outId = done.get("output_file_id").asText();
        JsonNode outFile = http.get("/files/" + outId).json();
        assertThat(outFile.get("purpose").asText()).isEqualTo("batch_output");
        assertThat(outFile.get("filename").asText()).isEqualTo(id + "_output.jsonl");

        List<JsonNode> lines = http.jsonl(outId);
        assertThat(lines).hasSize(n);
        List<String> order = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (JsonNode line : lines) {
            String customId = line.get("custom_id").asText();
            order.add(customId);
            ids.add(line.get("id").asText());
            int i = Integer.parseInt(customId.substring(4));
            assertThat(line.get("id").asText()).startsWith("batch_req_");
            assertThat(line.get("error").isNull()).isTrue();
            JsonNode response = line.get("response");
            assertThat(response.get("status_code").asInt()).isEqualTo(200);
            assertThat(response.get("request_id").asText()).startsWith("req_");
            JsonNode body = response.get("body");
            assertThat(body.get("object").asText()).isEqualTo("chat.completion");
            assertThat(body.get("model").asText()).isEqualTo("gpt-4o-mini");
            JsonNode choice = body.get("choices").get(0);
            assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
            assertThat(choice.get("message").get("content").asText()).isEqualTo("1 + " + i + " = " + (i + 1));
            assertThat(choice.get("message").get("refusal").isNull()).isTrue();
            assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
            JsonNode usage = body.get("usage");
            assertThat(usage.get("total_tokens").asInt()).isEqualTo(
                    usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt());
            assertThat(usage.get("prompt_tokens_details").get("cached_tokens").asInt()).isZero();
            assertThat(usage.get("completion_tokens_details").get("reasoning_tokens").asInt()).isZero();
        }
        assertThat(ids).hasSize(n);
        List<String> inputOrder = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            inputOrder.add("req-" + i);
        }
        assertThat(order).containsExactlyInAnyOrderElementsOf(inputOrder).isNotEqualTo(inputOrder);
    }

    /** A simulator whose batches move only when the test steps them. */
    private static BatchSimulator manualSimulator() {
        return BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofDays(1)).linesPerStep(10).build()
                .start();
    }

    /** Steps a batch until it ends; the status and completed count after each step. */
    private static List<String> stepToEnd(BatchSimulator s, String id) {
        List<String> seen = new ArrayList<>();
        JsonNode b = s.batch(id);
        while (!Set.of("completed", "failed", "expired", "cancelled").contains(b.get("status").asText())) {
            b = s.step(id);
            seen.add(b.get("status").asText() + ":" + b.at("/request_counts/completed").asInt());
        }
        return seen;
    }

    @Test
    void requestCountsAdvanceStepByStep() {
        try (BatchSimulator manual = manualSimulator()) {
            SimHttp h = new SimHttp(manual);
            JsonNode created = h.createBatch(h.upload(SimHttp.calculations(30)), "/v1/chat/completions", null).json();
            String id = created.get("id").asText();
            assertThat(created.get("status").asText()).isEqualTo("validating");
            assertThat(h.batch(id).get("status").asText()).as("nothing moves by itself").isEqualTo("validating");
            // validation, then ten lines per step, then the output files
            assertThat(stepToEnd(manual, id)).containsExactly("in_progress:0", "in_progress:10", "in_progress:20",
                    "finalizing:30", "completed:30");
            // what the API shows is what the steps made
            JsonNode done = h.batch(id);
            assertThat(done.at("/request_counts/total").asInt()).isEqualTo(30);
            assertThat(done.at("/request_counts/completed").asInt()).isEqualTo(30);
        }
    }

    @Test
    void stepAdvancesAStuckBatchDeterministically() {
        try (BatchSimulator manual = manualSimulator()) {
            String id = new SimHttp(manual).submit(SimHttp.calculations(25), "/v1/chat/completions");
            manual.makeStuck(id);
            assertThat(stepToEnd(manual, id)).containsExactly("in_progress:0", "in_progress:10", "in_progress:20",
                    "finalizing:25", "completed:25");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> manual.step(id))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void failMarkersGoToTheErrorFile() {
        String jsonl = SimHttp.chatLine("ok-1", "gpt-4o-mini", "hello") + "\n"
                + SimHttp.chatLine("bad-400", "gpt-4o-mini", "please FAIL_400 now") + "\n"
                + SimHttp.chatLine("bad-500", "gpt-4o-mini", "FAIL_500") + "\n"
                + SimHttp.chatLine("bad-timeout", "gpt-4o-mini", "x FAIL_TIMEOUT y") + "\n"
                + SimHttp.chatLine("ok-2", "gpt-4o-mini", "Calculate: 1 + 41 = ") + "\n";
        String id = http.submit(jsonl, "/v1/chat/completions");
        JsonNode done = http.awaitStatus(id, "completed");
        assertThat(done.get("request_counts").get("completed").asInt()).isEqualTo(2);
        assertThat(done.get("request_counts").get("failed").asInt()).isEqualTo(3);

        List<JsonNode> out = http.jsonl(done.get("output_file_id").asText());
        assertThat(out).extracting(l -> l.get("custom_id").asText()).containsExactlyInAnyOrder("ok-1", "ok-2");
        for (JsonNode l : out) {
            String content = l.at("/response/body/choices/0/message/content").asText();
            assertThat(content).isIn("Echo: hello", "1 + 41 = 42");
        }
        List<JsonNode> err = http.jsonl(done.get("error_file_id").asText());
        assertThat(err).hasSize(3);
        for (JsonNode l : err) {
            switch (l.get("custom_id").asText()) {
                case "bad-400" -> {
                    assertThat(l.at("/response/status_code").asInt()).isEqualTo(400);
                    assertThat(l.at("/response/request_id").asText()).startsWith("req_");
                    assertThat(l.at("/response/body/error/type").asText()).isEqualTo("invalid_request_error");
                    assertThat(l.at("/response/body/error/param").isNull()).isTrue();
                    assertThat(l.at("/response/body/error/code").isNull()).isTrue();
                    assertThat(l.get("error").isNull()).isTrue();
                }
                case "bad-500" -> {
                    assertThat(l.at("/response/status_code").asInt()).isEqualTo(500);
                    assertThat(l.at("/response/body/error/type").asText()).isEqualTo("server_error");
                    assertThat(l.get("error").isNull()).isTrue();
                }
                case "bad-timeout" -> {
                    assertThat(l.get("response").isNull()).isTrue();
                    assertThat(l.at("/error/code").asText()).isEqualTo("request_timeout");
                    assertThat(l.at("/error/message").asText()).isNotBlank();
                }
                default -> throw new AssertionError(l);
            }
        }
    }

    @Test
    void allFailedCompletesWithoutOutputFile() {
        String jsonl = SimHttp.chatLine("a", "gpt-4o-mini", "FAIL_400") + "\n"
                + SimHttp.chatLine("b", "gpt-4o-mini", "FAIL_500") + "\n";
        String id = http.submit(jsonl, "/v1/chat/completions");
        JsonNode done = http.awaitStatus(id, "completed");
        assertThat(done.get("output_file_id").isNull()).isTrue();
        assertThat(done.get("error_file_id").isTextual()).isTrue();
        assertThat(done.get("request_counts").get("failed").asInt()).isEqualTo(2);
        assertThat(http.jsonl(done.get("error_file_id").asText())).hasSize(2);
    }

    @Test
    void listsBatchesNewestFirstWithPagination() {
        String fileId = http.upload(SimHttp.calculations(1));
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            created.add(http.createBatch(fileId, "/v1/chat/completions", null).json().get("id").asText());
        }
        List<String> newestFirst = new ArrayList<>(created);
        java.util.Collections.reverse(newestFirst);

        SimHttp.Resp page1 = http.get("/batches?limit=2");
        assertThat(page1.json().get("object").asText()).isEqualTo("list");
        assertThat(page1.json().get("has_more").asBoolean()).isTrue();
        assertThat(page1.json().get("first_id").asText()).isEqualTo(newestFirst.get(0));
        assertThat(page1.json().get("last_id").asText()).isEqualTo(newestFirst.get(1));
        List<String> all = new ArrayList<>();
        String after = null;
        boolean more = true;
        while (more) {
            JsonNode page = http.get("/batches?limit=2" + (after == null ? "" : "&after=" + after)).json();
            page.get("data").forEach(b -> all.add(b.get("id").asText()));
            more = page.get("has_more").asBoolean();
            after = page.get("last_id").asText();
        }
        assertThat(all).containsExactlyElementsOf(newestFirst);
        assertThat(http.get("/batches").json().get("data")).hasSize(5);
        assertThat(http.get("/batches?limit=101").status()).isEqualTo(400);
        assertThat(http.get("/batches?limit=0").status()).isEqualTo(400);
        assertThat(http.get("/batches?limit=abc").status()).isEqualTo(400);
    }

    @Test
    void rejectsInvalidCreateRequests() {
        String fileId = http.upload(SimHttp.calculations(1));
        assertError(http.createBatch(fileId, "/v1/images/generations", null), 400, "endpoint");
        assertError(http.createBatch(fileId, "/chat/completions", null), 400, "endpoint");
        assertError(http.createBatch("file-doesnotexist", "/v1/chat/completions", null), 404, "input_file_id");
        assertError(http.postJson("/batches", "{\"input_file_id\":\"" + fileId
                + "\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"48h\"}"), 400, "completion_window");
        assertError(http.postJson("/batches", "{\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}"),
                400, "input_file_id");
        assertError(http.postJson("/batches", "{not json"), 400, null);

        Map<String, String> tooMany = new java.util.HashMap<>();
        for (int i = 0; i < 17; i++) {
            tooMany.put("k" + i, "v");
        }
        assertError(http.createBatch(fileId, "/v1/chat/completions", tooMany), 400, "metadata");
        assertThat(http.createBatch(fileId, "/v1/chat/completions", Map.of("k".repeat(64), "v".repeat(512))).status())
                .isEqualTo(200);
        assertThat(http.createBatch(fileId, "/v1/chat/completions", Map.of("k".repeat(65), "v")).status())
                .isEqualTo(400);
        assertThat(http.createBatch(fileId, "/v1/chat/completions", Map.of("k", "v".repeat(513))).status())
                .isEqualTo(400);

        String notBatch = http.uploadRaw("notes.txt", "x".getBytes(), Map.of("purpose", "user_data")).json()
                .get("id").asText();
        assertError(http.createBatch(notBatch, "/v1/chat/completions", null), 400, "input_file_id");
        assertThat(http.get("/batches/batch_unknown").status()).isEqualTo(404);
        assertThat(http.postJson("/batches/batch_unknown/cancel", "{}").status()).isEqualTo(404);
    }

    @Test
    void outputExpiresAfterSetsTheOutputFileExpiry() {
        String fileId = http.upload(SimHttp.calculations(2));
        SimHttp.Resp r = http.postJson("/batches", "{\"input_file_id\":\"" + fileId + "\",\"endpoint\":"
                + "\"/v1/chat/completions\",\"completion_window\":\"24h\",\"output_expires_after\":"
                + "{\"anchor\":\"created_at\",\"seconds\":7200}}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode done = http.awaitStatus(r.json().get("id").asText(), "completed");
        JsonNode out = http.get("/files/" + done.get("output_file_id").asText()).json();
        assertThat(out.get("expires_at").asLong()).isEqualTo(out.get("created_at").asLong() + 7200);
        assertError(http.postJson("/batches", "{\"input_file_id\":\"" + fileId + "\",\"endpoint\":"
                + "\"/v1/chat/completions\",\"completion_window\":\"24h\",\"output_expires_after\":"
                + "{\"anchor\":\"created_at\",\"seconds\":60}}"), 400, "output_expires_after.seconds");
    }

    static void assertError(SimHttp.Resp r, int status, String param) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        JsonNode error = r.json().get("error");
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(error.get("type").asText()).isNotBlank();
        assertThat(error.has("param")).isTrue();
        assertThat(error.has("code")).isTrue();
        if (param != null) {
            assertThat(error.get("param").asText()).isEqualTo(param);
        }
    }
}
