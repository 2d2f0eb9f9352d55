package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.Set;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Batches on a simulator that moves them only when the test steps them ({@link #NEVER} as the step delay): the test
 * decides every status change, so that what it asserts never depends on how fast the machine runs beside the
 * simulator's scheduler.
 */
final class ManualBatches {

    /** A step delay longer than any test: batches stay in their status until stepped. */
    static final Duration NEVER = Duration.ofDays(1);

    private static final Set<String> ENDED = Set.of("completed", "failed", "expired", "cancelled");

    private ManualBatches() {
    }

    /** Waits until the simulator holds batch number {@code index} (creation order, from 0) and returns its id. */
    static String awaitBatch(BatchSimulator sim, int index) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                .until(() -> sim.batchIds().size() > index);
        return sim.batchIds().get(index);
    }

    /** Steps the batch until the condition holds (checked before each step); fails if the batch ends first. */
    static JsonNode stepUntil(BatchSimulator sim, String batchId, Predicate<JsonNode> condition) {
        JsonNode b = sim.batch(batchId);
        while (!condition.test(b)) {
            assertThat(ENDED).as("batch %s ended before the condition held: %s", batchId, b)
                    .doesNotContain(status(b));
            b = sim.step(batchId);
        }
        return b;
    }

    /** Steps the batch to its end; returns it. */
    static JsonNode stepToEnd(BatchSimulator sim, String batchId) {
        return stepUntil(sim, batchId, b -> ENDED.contains(status(b)));
    }

    /** Steps the batch until it is in_progress with {@code n} requests completed. */
    static JsonNode stepToCompleted(BatchSimulator sim, String batchId, int n) {
        JsonNode b = stepUntil(sim, batchId, x -> completed(x) >= n);
        assertThat(status(b)).isEqualTo("in_progress");
        assertThat(completed(b)).isEqualTo(n);
        return b;
    }

    static String status(JsonNode batch) {
        return batch.path("status").asText();
    }

    static int completed(JsonNode batch) {
        return batch.path("request_counts").path("completed").asInt();
    }
}
