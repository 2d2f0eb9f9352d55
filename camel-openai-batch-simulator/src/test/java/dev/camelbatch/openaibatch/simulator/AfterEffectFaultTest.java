package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults after the fact: the call is carried out, and its answer is lost (the connection closes) or replaced by a
 * 500; and the record of which custom ids each batch executed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AfterEffectFaultTest {

    static BatchSimulator sim;
    static SimHttp http;

    @RegisterExtension
    static final OpenAIBatchSimulatorExtension LOSSY = OpenAIBatchSimulatorExtension.builder().apiKey("sk-lossy")
            .stepDelay(Duration.ofMillis(5)).lostAnswers(1.0).resetBeforeEach(true).build();

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofHours(1)).build().start();
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
    void lostUploadAnswerStillStoresTheFile() {
        sim.faults().nextCalls("POST /v1/files", 1, Fault.LOST_RESPONSE);
        assertThatThrownBy(() -> http.upload(SimHttp.calculations(2))).isInstanceOf(UncheckedIOException.class);
        assertThat(sim.stats().filesStored()).as("the upload took effect").isEqualTo(1);
        assertThat(sim.faults().injected()).containsEntry(Fault.LOST_RESPONSE, 1L);
    }

    @Test
    void createAnsweredWith500AfterTheBatchWasCreated() {
        String fileId = http.upload(SimHttp.calculations(2));
        sim.faults().nextCalls("POST /v1/batches", 1, Fault.SERVER_ERROR_AFTER_EFFECT);
        SimHttp.Resp r = http.createBatch(fileId, "/v1/chat/completions", Map.of("k", "v"));
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.json().at("/error/type").asText()).isEqualTo("server_error");
        assertThat(sim.stats().batchesCreated()).as("the batch exists although the answer said 500").isEqualTo(1);
        assertThat(sim.stats().batchesCreatedByMetadata("k", "v")).isEqualTo(1);
    }

    @Test
    void lostCreateAnswer() {
        String fileId = http.upload(SimHttp.calculations(2));
        sim.faults().nextCalls("POST /v1/batches", 1, Fault.LOST_RESPONSE);
        assertThatThrownBy(() -> http.createBatch(fileId, "/v1/chat/completions", null))
                .isInstanceOf(UncheckedIOException.class);
        assertThat(sim.batchIds()).hasSize(1);
    }

    @Test
    void deleteAndCancelTakeEffectBeforeTheirAnswerIsLost() {
        String fileId = http.upload(SimHttp.calculations(2));
        sim.faults().nextCalls("DELETE /v1/files/*", 1, Fault.SERVER_ERROR_AFTER_EFFECT);
        assertThat(http.delete("/files/" + fileId).status()).isEqualTo(500);
        assertThat(sim.stats().filesStored()).isZero();
        assertThat(http.delete("/files/" + fileId).status()).as("deleting again").isEqualTo(404);

        String batchId = http.submit(SimHttp.calculations(2), "/v1/chat/completions");
        sim.faults().nextCalls("POST /v1/batches/*/cancel", 1, Fault.SERVER_ERROR_AFTER_EFFECT);
        assertThat(http.postJson("/batches/" + batchId + "/cancel", "{}").status()).isEqualTo(500);
        assertThat(http.batch(batchId).get("status").asText()).isEqualTo("cancelling");
    }

    @Test
    void heldAnswerComesAfterTheCallTookEffect() throws Exception {
        String fileId = http.upload(SimHttp.calculations(2));
        sim.faults().slowResponseDelay(Duration.ofSeconds(1)).nextCalls("POST /v1/batches", 1, Fault.HELD_ANSWER);
        long heldBefore = sim.faults().answersHeld();
        var answer = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> http.createBatch(fileId, "/v1/chat/completions", null));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> sim.faults().answersHeld() == heldBefore + 1);
        assertThat(sim.batchIds()).as("created while its answer is held").hasSize(1);
        SimHttp.Resp r = answer.get(10, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("id").asText()).isEqualTo(sim.batchIds().get(0));
        sim.faults().slowResponseDelay(Duration.ofSeconds(2));
    }

    @Test
    void lostAnswersOnEveryStateChangingRoute() {
        BatchSimulator lossy = LOSSY.simulator();
        SimHttp h = new SimHttp(lossy);
        SimHttp.Resp up = null;
        try {
            up = h.uploadRaw("in.jsonl", SimHttp.calculations(1).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    Map.of("purpose", "batch"));
        } catch (UncheckedIOException lost) {
            // the connection closed
        }
        assertThat(up == null || up.status() == 500).as("the answer of the upload is lost").isTrue();
        assertThat(lossy.stats().filesStored()).isEqualTo(1);
        // reads are never faulted: the file is found by listing
        assertThat(h.get("/files").json().get("data")).hasSize(1);
        Map<Fault, Long> injected = lossy.faults().injected();
        assertThat(injected.getOrDefault(Fault.LOST_RESPONSE, 0L)
                + injected.getOrDefault(Fault.SERVER_ERROR_AFTER_EFFECT, 0L)).isEqualTo(1);
    }

    @Test
    void lostAnswersKeepsTheRateItIsGiven() {
        FaultInjector f = BatchSimulator.builder().seed(7).build().faults();
        f.lostAnswers(0.3);
        int hits = 0;
        for (int i = 0; i < 20_000; i++) {
            if (f.pick("POST /v1/batches") != null) {
                hits++;
            }
        }
        assertThat(hits / 20_000.0).isBetween(0.28, 0.32);
        assertThat(f.pick("GET /v1/batches")).isNull();
        assertThat(f.injected()).containsKeys(Fault.LOST_RESPONSE, Fault.SERVER_ERROR_AFTER_EFFECT);
    }

    @Test
    void executionsRecordWhichBatchRanWhichCustomId() {
        String jsonl = SimHttp.chatLine("ok-1", "gpt-4o-mini", "hello") + "\n"
                + SimHttp.chatLine("bad-1", "gpt-4o-mini", "FAIL_500") + "\n"
                + SimHttp.chatLine("slow-1", "gpt-4o-mini", "FAIL_TIMEOUT") + "\n";
        String first = http.submit(jsonl, "/v1/chat/completions");
        sim.step(first); // validating -> in_progress
        sim.step(first); // executes every line (1000 per step)
        String second = http.submit(SimHttp.chatLine("ok-1", "gpt-4o-mini", "hello") + "\n", "/v1/chat/completions");
        sim.step(second);
        sim.step(second);

        List<Execution> all = sim.executions();
        assertThat(all).extracting(Execution::batchId).containsExactly(first, first, first, second);
        Map<String, List<Execution>> byId = sim.executionsByCustomId();
        assertThat(byId.get("ok-1")).extracting(Execution::batchId).containsExactly(first, second);
        assertThat(byId.get("ok-1").get(0).succeeded()).isTrue();
        assertThat(byId.get("bad-1").get(0).statusCode()).isEqualTo(500);
        assertThat(byId.get("slow-1").get(0).errorCode()).isEqualTo("request_timeout");
        assertThat(byId.get("slow-1").get(0).statusCode()).isNull();

        // a cancelled batch's lines that never ran are not executions
        String third = http.submit(SimHttp.chatLine("never-1", "gpt-4o-mini", "hi") + "\n", "/v1/chat/completions");
        sim.cancelBatch(third);
        sim.step(third);
        assertThat(http.batch(third).get("status").asText()).isEqualTo("cancelled");
        assertThat(sim.executionsByCustomId()).doesNotContainKey("never-1");

        sim.reset();
        assertThat(sim.executions()).isEmpty();
    }

    @Test
    void executionsAreNotRecordedWhenSwitchedOff() {
        try (BatchSimulator quiet = BatchSimulator.builder().stepDelay(Duration.ofHours(1)).recordExecutions(false)
                .build().start()) {
            SimHttp h = new SimHttp(quiet);
            String id = h.submit(SimHttp.calculations(3), "/v1/chat/completions");
            quiet.step(id);
            quiet.step(id);
            assertThat(h.batch(id).at("/request_counts/completed").asInt()).isEqualTo(3);
            assertThat(quiet.executions()).isEmpty();
            assertThat(quiet.recordsExecutions()).isFalse();
        }
    }
}
