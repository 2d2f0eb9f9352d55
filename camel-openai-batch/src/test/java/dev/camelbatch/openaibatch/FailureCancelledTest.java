package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A batch cancelled by a user while it runs: the finished lines come out as results, the unfinished ones as errors
 * with code {@code batch_cancelled}, and nothing is resubmitted. The simulator moves the batch only when the test
 * steps it, so the cancellation lands at the point the test chose.
 */
@Timeout(300)
class FailureCancelledTest extends FailureTestSupport {

    @Test
    void finishedLinesEmittedUnfinishedAsBatchCancelledNotResubmitted() throws Exception {
        startSim(b -> b.stepDelay(ManualBatches.NEVER).linesPerStep(1));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("cancel", "maxRequestsPerBatch=10", "batchEvents=true"));

        List<String> ids = sendCalculations("c-", 10);

        // cancel once three requests have run; the cancellation is carried out at the next step
        String batchId = ManualBatches.awaitBatch(sim, 0);
        ManualBatches.stepToCompleted(sim, batchId, 3);
        assertThat(sim.cancelBatch(batchId).path("status").asText()).isEqualTo("cancelling");
        assertThat(ManualBatches.status(ManualBatches.stepToEnd(sim, batchId))).isEqualTo("cancelled");

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 10);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        int completed = sim.batch(batchId).path("request_counts").path("completed").asInt();
        assertThat(status(batchId)).isEqualTo("cancelled");
        assertThat(completed).isEqualTo(3);
        assertThat(outcomes.results()).hasSize(completed).allSatisfy(o -> {
            assertThat(o.body()).isEqualTo(answer(o.customId()));
            assertThat(o.batchId()).isEqualTo(batchId);
        });
        assertThat(outcomes.errors()).hasSize(10 - completed).allSatisfy(o -> {
            assertThat(o.errorCode()).isEqualTo("batch_cancelled");
            assertThat(o.errorMessage()).contains("cancelled");
            assertThat(o.attempt()).isEqualTo(1);
        });
        assertThat(sim.stats().batchesCreated()).as("nothing resubmitted").isEqualTo(1);
        assertThat(events("CANCELLED")).hasSize(1);
        assertThat(events("RESUBMITTED")).isEmpty();
        assertNoFilesLeft();
    }

    /** Cancelled before it ran anything: the batch has neither an output nor an error file. */
    @Test
    void cancelledWhileValidatingEveryRequestComesOutAsBatchCancelled() throws Exception {
        startSim(b -> b.stepDelay(ManualBatches.NEVER));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("cancelv", "maxRequestsPerBatch=10", ""));

        List<String> ids = sendCalculations("cv-", 10);
        String batchId = ManualBatches.awaitBatch(sim, 0);
        assertThat(status(batchId)).isEqualTo("validating");
        sim.cancelBatch(batchId);
        assertThat(ManualBatches.status(ManualBatches.stepToEnd(sim, batchId))).isEqualTo("cancelled");

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 10);
        awaitIdle(context, Duration.ofSeconds(10));
        assertThat(status(batchId)).isEqualTo("cancelled");
        assertThat(sim.batch(batchId).get("output_file_id").isNull()).isTrue();
        assertThat(sim.batch(batchId).get("error_file_id").isNull()).isTrue();
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).hasSize(10).allSatisfy(o -> {
            assertThat(o.errorCode()).isEqualTo("batch_cancelled");
            assertThat(o.batchId()).isEqualTo(batchId);
        });
        assertThat(sim.stats().batchesCreated()).isEqualTo(1);
        assertNoFilesLeft();
    }
}
