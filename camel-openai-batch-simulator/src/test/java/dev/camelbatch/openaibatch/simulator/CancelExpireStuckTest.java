package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(300)
class CancelExpireStuckTest {

    /** Batches advance on their own, a step every 10 ms. */
    static BatchSimulator sim;
    static SimHttp http;
    /** Batches advance only when the test steps them. */
    static BatchSimulator manual;
    static SimHttp manualHttp;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofMillis(10)).linesPerStep(5).build()
                .start();
        http = new SimHttp(sim);
        manual = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofDays(1)).linesPerStep(5).build()
                .start();
        manualHttp = new SimHttp(manual);
    }

    @AfterAll
    static void stop() {
        sim.close();
        manual.close();
    }

    @BeforeEach
    void reset() {
        sim.reset();
        manual.reset();
    }

    /** A batch of n requests on the manual simulator, stepped until it is in_progress with {@code completed} done. */
    private static String runningBatch(int n, int completed) {
        String id = manualHttp.submit(SimHttp.calculations(n), "/v1/chat/completions");
        JsonNode b = manual.step(id);
        assertThat(b.get("status").asText()).isEqualTo("in_progress");
        while (b.at("/request_counts/completed").asInt() < completed) {
            b = manual.step(id);
        }
        assertThat(b.get("status").asText()).isEqualTo("in_progress");
        assertThat(b.at("/request_counts/completed").asInt()).isEqualTo(completed);
        return id;
    }

    @Test
    void cancelViaApiGivesPartialOutputAndBatchCancelledLines() {
        String id = runningBatch(20, 5);
        int done = 5;

        SimHttp.Resp r = manualHttp.postJson("/batches/" + id + "/cancel", "");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("cancelling");
        assertThat(r.json().get("cancelling_at").isIntegralNumber()).isTrue();
        assertThat(manualHttp.postJson("/batches/" + id + "/cancel", "").json().get("status").asText())
                .isEqualTo("cancelling"); // idempotent
        assertThat(manualHttp.batch(id).get("status").asText()).isEqualTo("cancelling"); // until the next step

        JsonNode cancelled = manual.step(id);
        assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");
        assertThat(manualHttp.batch(id).toString()).isEqualTo(cancelled.toString());
        assertThat(cancelled.get("cancelled_at").isIntegralNumber()).isTrue();
        assertThat(cancelled.at("/request_counts/total").asInt()).isEqualTo(20);
        assertThat(cancelled.at("/request_counts/completed").asInt()).isEqualTo(done);
        assertThat(cancelled.at("/request_counts/failed").asInt()).isEqualTo(20 - done);
        assertThat(cancelled.get("usage").isObject()).isTrue();
        List<JsonNode> out = manualHttp.jsonl(cancelled.get("output_file_id").asText());
        List<JsonNode> err = manualHttp.jsonl(cancelled.get("error_file_id").asText());
        assertThat(out).hasSize(done);
        assertThat(err).hasSize(20 - done).allSatisfy(l -> {
            assertThat(l.get("response").isNull()).isTrue();
            assertThat(l.at("/error/code").asText()).isEqualTo("batch_cancelled");
            assertThat(l.get("id").asText()).startsWith("batch_req_");
        });
        Set<String> all = new HashSet<>();
        out.forEach(l -> all.add(l.get("custom_id").asText()));
        err.forEach(l -> all.add(l.get("custom_id").asText()));
        assertThat(all).hasSize(20);

        SimHttp.Resp again = manualHttp.postJson("/batches/" + id + "/cancel", "");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().at("/error/message").asText()).contains("cancelled");
    }

    @Test
    void cancelWhileValidatingEndsWithoutFiles() {
        String id = manualHttp.submit(SimHttp.calculations(3), "/v1/chat/completions");
        assertThat(manual.batch(id).get("status").asText()).isEqualTo("validating");
        manual.cancelBatch(id);
        JsonNode cancelled = manual.step(id);
        assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");
        assertThat(cancelled.get("output_file_id").isNull()).isTrue();
        assertThat(cancelled.get("error_file_id").isNull()).isTrue();
        assertThat(cancelled.at("/request_counts/total").asInt()).isZero();
    }

    @Test
    void forcedCancelFromOutsideIsNotCountedAsAnApiCall() {
        String id = runningBatch(20, 0);
        long calls = manual.stats().calls("POST /v1/batches/{id}/cancel");
        JsonNode b = manual.cancelBatch(id);
        assertThat(b.get("status").asText()).isEqualTo("cancelling");
        assertThat(manual.step(id).get("status").asText()).isEqualTo("cancelled");
        assertThat(manual.stats().calls("POST /v1/batches/{id}/cancel")).isEqualTo(calls);
        assertThat(manualHttp.postJson("/batches/" + manualHttp.submit(SimHttp.calculations(1),
                "/v1/chat/completions") + "/cancel", "").status()).isEqualTo(200);
        assertThat(manual.stats().calls("POST /v1/batches/{id}/cancel")).isEqualTo(calls + 1);
    }

    @Test
    void completedBatchCannotBeCancelled() {
        String id = http.submit(SimHttp.calculations(2), "/v1/chat/completions");
        http.awaitStatus(id, "completed");
        SimHttp.Resp r = http.postJson("/batches/" + id + "/cancel", "");
        assertThat(r.status()).isEqualTo(409);
        assertThat(r.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
        assertThatThrownBy(() -> sim.cancelBatch(id)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void expireAfterStepsWritesFinishedAndBatchExpiredLines() {
        try (BatchSimulator expiring = BatchSimulator.builder().stepDelay(Duration.ofMillis(5)).linesPerStep(4)
                .expireAfterSteps(2).build().start()) {
            SimHttp h = new SimHttp(expiring);
            String id = h.submit(SimHttp.calculations(11), "/v1/chat/completions");
            JsonNode expired = h.awaitStatus(id, "expired", "completed");
            assertThat(expired.get("status").asText()).isEqualTo("expired");
            assertThat(expired.get("expired_at").isIntegralNumber()).isTrue();
            assertThat(expired.at("/request_counts/total").asInt()).isEqualTo(11);
            assertThat(expired.at("/request_counts/completed").asInt()).isEqualTo(8);
            assertThat(expired.at("/request_counts/failed").asInt()).isEqualTo(3);
            assertThat(h.jsonl(expired.get("output_file_id").asText())).hasSize(8);
            List<JsonNode> err = h.jsonl(expired.get("error_file_id").asText());
            assertThat(err).hasSize(3).allSatisfy(l -> {
                assertThat(l.get("response").isNull()).isTrue();
                assertThat(l.at("/error/code").asText()).isEqualTo("batch_expired");
                assertThat(l.at("/error/message").asText())
                        .isEqualTo("This request could not be executed before the completion window expired.");
            });
            assertThat(err).extracting(l -> l.get("custom_id").asText()).containsExactlyInAnyOrder("req-9", "req-10",
                    "req-11");

            // a batch that finishes within the steps completes normally
            String small = h.submit(SimHttp.calculations(8), "/v1/chat/completions");
            assertThat(h.awaitStatus(small, "expired", "completed").get("status").asText()).isEqualTo("completed");
        }
    }

    @Test
    void expireBatchForcesExpiryNow() {
        String id = runningBatch(20, 5);
        JsonNode expired = manual.expireBatch(id);
        assertThat(expired.get("status").asText()).isEqualTo("expired");
        assertThat(manualHttp.batch(id).get("status").asText()).isEqualTo("expired");
        assertThat(manualHttp.jsonl(expired.get("output_file_id").asText())).hasSize(5);
        assertThat(manualHttp.jsonl(expired.get("error_file_id").asText())).hasSize(15);
        assertThatThrownBy(() -> manual.expireBatch(id)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void stuckBatchStopsAdvancingUntilUnstuck() {
        // on the scheduled simulator: 1000 requests take some 200 steps, so the batch is far from its end here
        String id = http.submit(SimHttp.calculations(1000), "/v1/chat/completions");
        sim.makeStuck(id);
        JsonNode before = http.batch(id);
        assertThat(before.get("status").asText()).isIn("validating", "in_progress");
        // another batch goes through its whole lifecycle (seven steps of the same scheduler) meanwhile
        String other = http.submit(SimHttp.calculations(20), "/v1/chat/completions");
        assertThat(http.awaitStatus(other, "completed").at("/request_counts/completed").asInt()).isEqualTo(20);
        assertThat(http.batch(id)).isEqualTo(before);
        sim.unstuck(id);
        assertThat(http.awaitStatus(id, "completed").at("/request_counts/completed").asInt()).isEqualTo(1000);
    }

    @Test
    void unknownIdsThrowNoSuchElement() {
        assertThatThrownBy(() -> sim.batch("batch_x")).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(() -> sim.cancelBatch("batch_x")).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(() -> sim.expireBatch("batch_x")).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(() -> sim.makeStuck("batch_x")).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(() -> sim.file("file-x")).isInstanceOf(NoSuchElementException.class);
    }
}
