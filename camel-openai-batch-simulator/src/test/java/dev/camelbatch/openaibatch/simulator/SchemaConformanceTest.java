package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.simulator.spec.OpenApiSchemas;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every JSON the simulator produces validates against the official OpenAPI component schemas. */
@Timeout(300)
class SchemaConformanceTest {

    static BatchSimulator sim;
    static SimHttp http;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofMillis(5)).linesPerStep(2).build()
                .start();
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

    static void assertValid(String schema, JsonNode node) {
        assertThat(OpenApiSchemas.validate(schema, node)).as(schema + ": " + node).isEmpty();
    }

    @Test
    void helperRejectsWhatTheSchemaForbids() {
        ObjectNode batch = SimHttp.JSON.createObjectNode().put("id", "batch_1").put("object", "batch");
        assertThat(OpenApiSchemas.validate("Batch", batch)).isNotEmpty(); // required fields missing
        ObjectNode file = SimHttp.JSON.createObjectNode().put("id", "f").put("object", "file").put("bytes", 1)
                .put("created_at", "yesterday").put("filename", "x").put("purpose", "batch").put("status", "processed");
        assertThat(OpenApiSchemas.validate("OpenAIFile", file)).isNotEmpty(); // created_at must be an integer
        ObjectNode nulls = SimHttp.JSON.createObjectNode().put("id", "batch_1").put("object", "batch")
                .put("endpoint", "/v1/chat/completions").put("input_file_id", "file-1").put("completion_window", "24h")
                .put("status", "validating").put("created_at", 1);
        nulls.putNull("output_file_id");
        assertThat(OpenApiSchemas.validate("Batch", nulls)).isEmpty();
        assertThat(OpenApiSchemas.validateStrict("Batch", nulls)).isNotEmpty();
        nulls.putNull("status");
        assertThat(OpenApiSchemas.validate("Batch", nulls)).isNotEmpty(); // required never relaxed
        ObjectNode line = SimHttp.JSON.createObjectNode().put("id", "x").put("custom_id", "c");
        line.putNull("response");
        line.putNull("error");
        assertThat(OpenApiSchemas.validateStrict("BatchRequestOutput", line)).isEmpty(); // nullable: true honoured
        line.put("response", "text");
        assertThat(OpenApiSchemas.validate("BatchRequestOutput", line)).isNotEmpty();
    }

    @Test
    void batchInEveryStatus() {
        // no automatic steps: the test drives every batch with step()
        try (BatchSimulator manual = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofHours(1))
                .linesPerStep(2).build().start()) {
            SimHttp h = new SimHttp(manual);
            StringBuilder jsonl = new StringBuilder(SimHttp.calculations(4));
            jsonl.append(SimHttp.chatLine("f400", "gpt-4o-mini", "FAIL_400")).append('\n');
            jsonl.append(SimHttp.chatLine("f500", "gpt-4o-mini", "FAIL_500")).append('\n');
            jsonl.append(SimHttp.chatLine("ftimeout", "gpt-4o-mini", "FAIL_TIMEOUT")).append('\n');
            String fileId = h.upload(jsonl.toString());
            SimHttp.Resp created = h.createBatch(fileId, "/v1/chat/completions", Map.of("k", "v"));
            String id = created.json().get("id").asText();
            assertValid("Batch", created.json());
            assertValid("Batch", h.batch(id)); // validating
            assertThat(manual.step(id).get("status").asText()).isEqualTo("in_progress");
            assertValid("Batch", h.batch(id));
            for (int i = 0; i < 4; i++) {
                manual.step(id);
            }
            JsonNode finalizing = h.batch(id);
            assertThat(finalizing.get("status").asText()).isEqualTo("finalizing");
            assertValid("Batch", finalizing);
            assertThat(manual.step(id).get("status").asText()).isEqualTo("completed");
            JsonNode completed = h.batch(id);
            assertValid("Batch", completed);
            assertThat(completed.get("usage").isObject()).isTrue();

            // output and error lines of every kind
            List<JsonNode> out = h.jsonl(completed.get("output_file_id").asText());
            List<JsonNode> err = h.jsonl(completed.get("error_file_id").asText());
            assertThat(out).hasSize(4);
            assertThat(err).hasSize(3);
            out.forEach(l -> assertValid("BatchRequestOutput", l));
            err.forEach(l -> assertValid("BatchRequestOutput", l));
            err.forEach(l -> {
                if (!l.get("response").isNull()) {
                    assertValid("ErrorResponse", l.at("/response/body"));
                }
            });

            // cancelling + cancelled (with batch_cancelled lines)
            String c = h.createBatch(fileId, "/v1/chat/completions", null).json().get("id").asText();
            manual.step(c);
            manual.step(c);
            SimHttp.Resp cancelling = h.postJson("/batches/" + c + "/cancel", "");
            assertThat(cancelling.json().get("status").asText()).isEqualTo("cancelling");
            assertValid("Batch", cancelling.json());
            assertThat(manual.step(c).get("status").asText()).isEqualTo("cancelled");
            JsonNode cancelled = h.batch(c);
            assertValid("Batch", cancelled);
            List<JsonNode> cancelledLines = h.jsonl(cancelled.get("error_file_id").asText());
            assertThat(cancelledLines).filteredOn(l -> l.at("/error/code").asText().equals("batch_cancelled"))
                    .hasSize(5);
            cancelledLines.forEach(l -> assertValid("BatchRequestOutput", l));

            // expired (with batch_expired lines)
            String e = h.createBatch(fileId, "/v1/chat/completions", null).json().get("id").asText();
            manual.step(e);
            manual.step(e);
            JsonNode expired = manual.expireBatch(e);
            assertThat(expired.get("status").asText()).isEqualTo("expired");
            assertValid("Batch", h.batch(e));
            List<JsonNode> expiredLines = h.jsonl(expired.get("error_file_id").asText());
            assertThat(expiredLines).filteredOn(l -> l.at("/error/code").asText().equals("batch_expired")).hasSize(5);
            expiredLines.forEach(l -> assertValid("BatchRequestOutput", l));

            // failed with errors
            String bad = h.submit("{not json\n" + SimHttp.chatLine("x", "gpt-4o-mini", "hi") + "\n",
                    "/v1/chat/completions");
            assertThat(manual.step(bad).get("status").asText()).isEqualTo("failed");
            JsonNode failed = h.batch(bad);
            assertThat(failed.at("/errors/data/0/code").asText()).isEqualTo("invalid_json_line");
            assertValid("Batch", failed);

            // lists
            JsonNode list = h.get("/batches?limit=2").json();
            assertThat(list.get("has_more").asBoolean()).isTrue();
            assertValid("ListBatchesResponse", list);
            assertValid("ListBatchesResponse", h.get("/batches").json());
        }
    }

    @Test
    void everyEndpointsOutputLines() {
        Map<String, String> lines = Map.of(
                "/v1/responses", "{\"custom_id\":\"r\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":"
                        + "{\"model\":\"gpt-4.1-mini\",\"input\":\"Calculate: 1 + 2 = \"}}",
                "/v1/embeddings", "{\"custom_id\":\"e\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":"
                        + "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"]}}",
                "/v1/completions", "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":"
                        + "{\"model\":\"gpt-3.5-turbo-instruct\",\"prompt\":\"Calculate: 1 + 9 = \"}}",
                "/v1/moderations", "{\"custom_id\":\"m\",\"method\":\"POST\",\"url\":\"/v1/moderations\",\"body\":"
                        + "{\"model\":\"omni-moderation-latest\",\"input\":\"hello\"}}",
                "/v1/chat/completions", SimHttp.chatLine("x", "gpt-4o-mini", "hello"));
        for (Map.Entry<String, String> e : lines.entrySet()) {
            assertValid("BatchRequestInput", parse(e.getValue()));
            String id = http.submit(e.getValue() + "\n", e.getKey());
            JsonNode done = http.awaitStatus(id, "completed");
            assertValid("Batch", done);
            List<JsonNode> out = http.jsonl(done.get("output_file_id").asText());
            assertThat(out).hasSize(1);
            assertValid("BatchRequestOutput", out.get(0));
        }
    }

    @Test
    void filesListsDeletesAndErrors() {
        SimHttp.Resp up = http.uploadRaw("in.jsonl", SimHttp.calculations(1).getBytes(), Map.of("purpose", "batch"));
        assertValid("OpenAIFile", up.json());
        SimHttp.Resp up2 = http.uploadRaw("notes.txt", "hi".getBytes(),
                Map.of("purpose", "user_data", "expires_after[anchor]", "created_at", "expires_after[seconds]", "3600"));
        assertValid("OpenAIFile", up2.json());
        String id = up.json().get("id").asText();
        assertValid("OpenAIFile", http.get("/files/" + id).json());
        JsonNode list = http.get("/files?limit=1").json();
        assertThat(list.get("has_more").asBoolean()).isTrue();
        assertValid("ListFilesResponse", list);
        assertValid("ListFilesResponse", http.get("/files?purpose=batch&order=asc").json());
        assertValid("DeleteFileResponse", http.delete("/files/" + id).json());
        assertValid("ErrorResponse", http.get("/files/" + id).json());
        assertValid("ErrorResponse", http.get("/batches/batch_nope").json());
        assertValid("ErrorResponse", new SimHttp(sim.baseUrl(), "sk-wrong", false).get("/files").json());
        assertValid("ErrorResponse", http.postJson("/batches", "{}").json());
    }

    @Test
    void createBatchRequestsUsedInTheTestsConform() {
        assertValid("CreateBatchRequest", parse("{\"input_file_id\":\"file-1\",\"endpoint\":\"/v1/chat/completions\","
                + "\"completion_window\":\"24h\",\"metadata\":{\"k\":\"v\"},\"output_expires_after\":"
                + "{\"anchor\":\"created_at\",\"seconds\":7200}}"));
        assertThat(OpenApiSchemas.validate("CreateBatchRequest", parse("{\"input_file_id\":\"file-1\","
                + "\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"48h\"}"))).isNotEmpty();
    }

    private static JsonNode parse(String s) {
        try {
            return SimHttp.JSON.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
