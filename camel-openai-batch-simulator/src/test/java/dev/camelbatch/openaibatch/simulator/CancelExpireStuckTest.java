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

    static BatchSimulator sim;
    static SimHttp http;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofMillis(10)).linesPerStep(5).build()
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

    /** Creates a batch of n requests and holds it in_progress after {@code steps} processing steps. */
    private String runningBatch(int n, int completedAtLeast) {
        String id = http.submit(SimHttp.calculations(n), "/v1/chat/completions");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1)).until(() -> {
            JsonNode b = sim.batch(id);
            if (b.get("status").asText().equals("in_progress")
                    && b.at("/request_counts/completed").asInt() >= completedAtLeast) {
                sim.makeStuck(id);
                return true;
            }
            return false;
        });
        return id;
    }

    @Test
    void cancelViaApiGivesPartialOutputAndBatchCancelledLines() {
        String id = runningBatch(20, 5);
        JsonNode held = http.batch(id);
        int done = held.at("/request_counts/completed").asInt();
        assertThat(done).isBetween(5, 19);

        SimHttp.Resp r = http.postJson("/batches/" + id + "/cancel", "");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("cancelling");
        assertThat(r.json().get("cancelling_at").isIntegralNumber()).isTrue();
        assertThat(http.postJson("/batches/" + id + "/cancel", "").json().get("status").asText())
                .isEqualTo("cancelling"); // idempotent
        assertThat(http.batch(id).get("status").asText()).isEqualTo("cancelling"); // stuck: stays cancelling
        sim.unstuck(id);

        JsonNode cancelled = http.awaitStatus(id, "cancelled");
        assertThat(cancelled.get("cancelled_at").isIntegralNumber()).isTrue();
        assertThat(cancelled.at("/request_counts/total").asInt()).isEqualTo(20);
        assertThat(cancelled.at("/request_counts/completed").asInt()).isEqualTo(done);
        assertThat(cancelled.at("/request_counts/failed").asInt()).isEqualTo(20 - done);
        assertThat(cancelled.get("usage").isObject()).isTrue();
        List<JsonNode> out = http.jsonl(cancelled.get("output_file_id").asText());
        List<JsonNode> err = http.jsonl(cancelled.get("error_file_id").asText());
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

        SimHttp.Resp again = http.postJson("/batches/" + id + "/cancel", "");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().at("/error/message").asText()).contains("cancelled");
    }

    @Test
    void cancelWhileValidatingEndsWithoutFiles() {
        String id = http.submit(SimHttp.calculations(3), "/v1/chat/completions");
        sim.makeStuck(id);
        if (!sim.batch(id).get("status").asText().equals("validating")) {
            return; // too late on a very slow machine; covered elsewhere
        }
        sim.cancelBatch(id);
        sim.unstuck(id);
        JsonNode cancelled = http.awaitStatus(id, "cancelled");
        assertThat(cancelled.get("output_file_id").isNull()).isTrue();
        assertThat(cancelled.get("error_file_id").isNull()).isTrue();
        assertThat(cancelled.at("/request_counts/total").asInt()).isZero();
    }

    @Test
    void forcedCancelFromOutsideIsNotCountedAsAnApiCall() {
        String id = runningBatch(20, 0);
        long calls = sim.stats().calls("POST /v1/batches/{id}/cancel");
        JsonNode b = sim.cancelBatch(id);
        assertThat(b.get("status").asText()).isEqualTo("cancelling");
        sim.unstuck(id);
        assertThat(http.awaitStatus(id, "cancelled").get("status").asText()).isEqualTo("cancelled");
        assertThat(sim.stats().calls("POST /v1/batches/{id}/cancel")).isEqualTo(calls);
        assertThat(http.postJson("/batches/" + http.submit(SimHttp.calculations(1), "/v1/chat/completions")
                + "/cancel", "").status()).isEqualTo(200);
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
        int done = sim.batch(id).at("/request_counts/completed").asInt();
        JsonNode expired = sim.expireBatch(id);
        assertThat(expired.get("status").asText()).isEqualTo("expired");
        assertThat(http.batch(id).get("status").asText()).isEqualTo("expired");
        assertThat(http.jsonl(expired.get("output_file_id").asText())).hasSize(done);
        assertThat(http.jsonl(expired.get("error_file_id").asText())).hasSize(20 - done);
        assertThatThrownBy(() -> sim.expireBatch(id)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void stuckBatchStopsAdvancingUntilUnstuck() throws InterruptedException {
        String id = runningBatch(20, 5);
        JsonNode before = http.batch(id);
        Thread.sleep(100); // ten steps
        JsonNode after = http.batch(id);
        assertThat(after).isEqualTo(before);
        sim.unstuck(id);
        assertThat(http.awaitStatus(id, "completed").at("/request_counts/completed").asInt()).isEqualTo(20);
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
