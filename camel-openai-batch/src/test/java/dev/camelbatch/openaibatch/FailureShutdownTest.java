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

    @Test
    void stoppingMidFlightLeavesEveryBatchResumable() throws Exception {
        // batches move only when the test steps them: the stop finds them exactly where the test left them
        startSim(b -> b.stepDelay(ManualBatches.NEVER).linesPerStep(2));
        configureComponent(context, KEY, null);
        String consumer = "maxInFlightBatches=2";
        addRoutesAndStart(routes("shutdown", "maxRequestsPerBatch=10", consumer));

        List<String> ids = sendCalculations("sd-", 30);
        String first = ManualBatches.awaitBatch(sim, 0);
        ManualBatches.stepToCompleted(sim, first, 4);
        String second = ManualBatches.awaitBatch(sim, 1);
        context.stop();
        assertThat(outcomes.total()).as("nothing finished before the stop").isZero();
        assertThat(sim.batchIds()).as("two in flight, the third segment waiting").hasSize(2);
        assertThat(status(first)).isEqualTo("in_progress");

        CamelContext next = newContext(KEY, null, routes("shutdown", "maxRequestsPerBatch=10", consumer));
        ManualBatches.stepToEnd(sim, first);
        ManualBatches.stepToEnd(sim, second);
        ManualBatches.stepToEnd(sim, ManualBatches.awaitBatch(sim, 2));
        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 30);
        awaitIdle(next, Duration.ofSeconds(10));
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
        startSim(b -> b.stepDelay(ManualBatches.NEVER).linesPerStep(1));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("cancelstop", "maxRequestsPerBatch=10", "cancelOnStop=true"));

        List<String> ids = sendCalculations("cs-", 20);
        // one batch in progress with 3 of its 10 done, the other with 1
        ManualBatches.stepToCompleted(sim, ManualBatches.awaitBatch(sim, 0), 3);
        ManualBatches.stepToCompleted(sim, ManualBatches.awaitBatch(sim, 1), 1);
        context.stop();
        for (String id : sim.batchIds()) {
            assertThat(status(id)).isEqualTo("cancelling");
            // the service carries the cancellation out
            assertThat(ManualBatches.status(ManualBatches.stepToEnd(sim, id))).isEqualTo("cancelled");
        }

        // the next start (without cancelOnStop) reports what was done and what was cancelled, once each
        CamelContext second = newContext(KEY, null, routes("cancelstop", "maxRequestsPerBatch=10", ""));
        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 20);
        awaitIdle(second, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isNotEmpty().allSatisfy(o -> assertThat(o.errorCode())
                .isEqualTo("batch_cancelled"));
        assertThat(outcomes.results()).hasSize(3 + 1);
        assertThat(outcomes.errors()).hasSize(20 - 4);
        assertThat(Set.copyOf(sim.batchIds().stream().map(this::status).toList())).containsOnly("cancelled");
        assertThat(sim.stats().batchesCreated()).isEqualTo(2);
        assertNoFilesLeft();
    }
}
