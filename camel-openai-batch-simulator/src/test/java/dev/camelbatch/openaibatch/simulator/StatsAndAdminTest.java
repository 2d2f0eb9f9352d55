package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(300)
class StatsAndAdminTest {

    static BatchSimulator sim;
    static SimHttp http;
    static SimHttp admin;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofMillis(5)).build().start();
        http = new SimHttp(sim);
        admin = new SimHttp(sim.rootUrl(), null, false);
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
    void countsCallsPollsBatchesFilesAndMetadata() {
        String fileId = http.upload(SimHttp.calculations(5));
        String a = http.createBatch(fileId, "/v1/chat/completions", Map.of("segment", "s-1", "run", "r")).json()
                .get("id").asText();
        String b = http.createBatch(fileId, "/v1/chat/completions", Map.of("segment", "s-2")).json().get("id").asText();
        http.awaitStatus(a, "completed");
        http.awaitStatus(b, "completed");
        http.get("/batches");
        http.get("/files/" + fileId);
        String out = http.batch(a).get("output_file_id").asText();
        http.content(out);
        http.postJson("/batches/" + a + "/cancel", "");
        http.delete("/files/" + out);
        new SimHttp(sim.baseUrl(), "bad", false).get("/files"); // 401s count too

        SimulatorStats s = sim.stats();
        assertThat(s.calls("POST /v1/files")).isEqualTo(1);
        assertThat(s.calls("POST /v1/batches")).isEqualTo(2);
        assertThat(s.calls("GET /v1/batches")).isEqualTo(1);
        assertThat(s.calls("GET /v1/files/{id}")).isEqualTo(1);
        assertThat(s.calls("GET /v1/files/{id}/content")).isEqualTo(1);
        assertThat(s.calls("POST /v1/batches/{id}/cancel")).isEqualTo(1);
        assertThat(s.calls("DELETE /v1/files/{id}")).isEqualTo(1);
        assertThat(s.calls("GET /v1/files")).isEqualTo(1);
        assertThat(s.callsByRoute().get("GET /v1/batches/{id}")).isEqualTo(s.pollsByBatch().get(a) + s.pollsByBatch()
                .get(b));
        assertThat(s.pollsByBatch().get(a)).isPositive();
        assertThat(s.totalCalls()).isEqualTo(s.callsByRoute().values().stream().mapToLong(Long::longValue).sum());
        assertThat(s.batchesCreated()).isEqualTo(2);
        assertThat(s.batchesByStatus()).containsEntry("completed", 2L).containsEntry("failed", 0L)
                .containsKeys("validating", "in_progress", "finalizing", "expired", "cancelling", "cancelled");
        assertThat(s.batchesCreatedByMetadata("segment", "s-1")).isEqualTo(1);
        assertThat(s.batchesCreatedByMetadata("segment", "s-3")).isZero();
        assertThat(s.batchesCreatedByMetadata("run", "r")).isEqualTo(1);
        // input + b's output (a's output deleted)
        assertThat(s.filesStored()).isEqualTo(2);
        assertThat(s.bytesStored()).isEqualTo(http.get("/files/" + fileId).json().get("bytes").asLong()
                + http.get("/files/" + http.batch(b).get("output_file_id").asText()).json().get("bytes").asLong());

        JsonNode overHttp = admin.get("/__simulator/stats").json();
        assertThat(overHttp.get("batchesCreated").asLong()).isEqualTo(2);
        assertThat(overHttp.at("/callsByRoute/POST ~1v1~1batches").asLong()).isEqualTo(2);
        assertThat(overHttp.at("/batchesByStatus/completed").asLong()).isEqualTo(2);
        assertThat(overHttp.get("filesStored").asInt()).isEqualTo(2);
        assertThat(overHttp.has("pollsByBatch")).isTrue();
    }

    @Test
    void resetOverHttpClearsEverything() {
        String id = http.submit(SimHttp.calculations(2), "/v1/chat/completions");
        http.awaitStatus(id, "completed");
        assertThat(admin.postJson("/__simulator/reset", "").status()).isEqualTo(200);
        SimulatorStats s = sim.stats();
        assertThat(s.totalCalls()).isZero();
        assertThat(s.batchesCreated()).isZero();
        assertThat(s.filesStored()).isZero();
        assertThat(s.bytesStored()).isZero();
        assertThat(s.pollsByBatch()).isEmpty();
        assertThat(http.get("/batches/" + id).status()).isEqualTo(404);
        assertThat(http.get("/files").json().get("data")).isEmpty();
        assertThat(sim.batchIds()).isEmpty();
    }

    @Test
    void adminBatchControls() {
        String id = http.submit(SimHttp.calculations(50), "/v1/chat/completions");
        assertThat(admin.postJson("/__simulator/batches/" + id + "/stuck", "").status()).isEqualTo(200);
        assertThat(admin.postJson("/__simulator/batches/" + id + "/expire", "").json().get("status").asText())
                .isEqualTo("expired");
        assertThat(admin.postJson("/__simulator/batches/" + id + "/cancel", "").status()).isEqualTo(409);
        assertThat(admin.postJson("/__simulator/batches/batch_nope/expire", "").status()).isEqualTo(404);
        assertThat(admin.get("/__simulator/health").json().get("status").asText()).isEqualTo("ok");
        assertThat(admin.get("/__simulator/nope").status()).isEqualTo(404);
        assertThat(sim.stats().totalCalls()).isEqualTo(2); // upload + create; admin calls are not counted
    }
}
