package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stopping the CamelContext while batches are in flight leaves every one resumable: a new context on the same store
 * finishes them without creating any batch twice. With cancelOnStop=true the batches in flight are cancelled.
 */
@Timeout(300)
class FailureShutdownTest extends FailureTestSupport {

    private boolean anyInProgress() {
        return sim.batchIds().stream().anyMatch(id -> "in_progress".equals(status(id)));
    }

    @Test
    void stoppingMidFlightLeavesEveryBatchResumable() throws Exception {
        startSim(b -> b.stepDelay(Duration.ofMillis(30)).linesPerStep(2));
        configureComponent(context, KEY, null);
        String consumer = "maxInFlightBatches=2";
        addRoutesAndStart(routes("shutdown", "maxRequestsPerBatch=10", consumer));

        List<String> ids = sendCalculations("sd-", 30);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(this::anyInProgress);
        context.stop();
        int before = outcomes.total();
        int createdBefore = sim.batchIds().size();
        assertThat(before).isLessThan(30);
        assertThat(createdBefore).isBetween(1, 2);

        CamelContext second = newContext(KEY, null, routes("shutdown", "maxRequestsPerBatch=10", consumer));
        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 30);
        awaitIdle(second, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        for (String id : ids) {
            assertThat(outcomes.only(id).body()).isEqualTo(answer(id));
        }
        assertThat(sim.stats().batchesCreated()).isEqualTo(3);
        assertThat(sim.stats().batchesByStatus().get("completed")).isEqualTo(3);
        assertNoSegmentAttemptSubmittedTwice();
        assertNoFilesLeft();
    }

    @Test
    void cancelOnStopCancelsTheBatchesInFlight() throws Exception {
        startSim(b -> b.stepDelay(Duration.ofMillis(30)).linesPerStep(1));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("cancelstop", "maxRequestsPerBatch=10", "cancelOnStop=true"));

        List<String> ids = sendCalculations("cs-", 20);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                .until(() -> sim.batchIds().size() == 2 && anyInProgress());
        context.stop();
        for (String id : sim.batchIds()) {
            assertThat(status(id)).isIn("cancelling", "cancelled");
        }

        // the next start (without cancelOnStop) reports what was done and what was cancelled, once each
        CamelContext second = newContext(KEY, null, routes("cancelstop", "maxRequestsPerBatch=10", ""));
        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 20);
        awaitIdle(second, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isNotEmpty().allSatisfy(o -> assertThat(o.errorCode())
                .isEqualTo("batch_cancelled"));
        long completed = sim.batchIds().stream()
                .mapToLong(id -> sim.batch(id).path("request_counts").path("completed").asLong()).sum();
        assertThat(outcomes.results()).hasSize((int) completed);
        assertThat(Set.copyOf(sim.batchIds().stream().map(this::status).toList())).containsOnly("cancelled");
        assertThat(sim.stats().batchesCreated()).isEqualTo(2);
        assertNoFilesLeft();
    }
}
