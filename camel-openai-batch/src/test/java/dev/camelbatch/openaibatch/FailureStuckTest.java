package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.List;

import dev.camelbatch.openaibatch.simulator.Fault;
import org.apache.camel.Exchange;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static dev.camelbatch.openaibatch.ManualBatches.awaitBatch;
import static dev.camelbatch.openaibatch.ManualBatches.completed;
import static dev.camelbatch.openaibatch.ManualBatches.stepToCompleted;
import static dev.camelbatch.openaibatch.ManualBatches.stepToEnd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A batch that stops making progress: reported (WARN log, STUCK event); with cancelStuckBatches=true it is
 * cancelled and its unfinished requests are resubmitted and complete.
 * <p>
 * The simulator moves batches only when the test steps them. The engine's status polls (the batch list) fail while
 * the test steps a batch to where it wants it, so the engine's stuck clock starts at the poll that sees that
 * progress, however long the stepping took; a batch the test runs to its end while the polls fail is first seen
 * finished, never stuck.
 */
@Timeout(300)
class FailureStuckTest extends FailureTestSupport {

    private static final String POLLS = "GET /v1/batches";

    /** The engine's polls fail from now on (its client does not retry: maxRetries=1). */
    private void blockPolls() {
        sim.faults().probability(POLLS, 1.0, Fault.SERVER_ERROR_500);
    }

    /** Polls succeed again (every fault rule is removed). */
    private void unblockPolls() {
        sim.faults().clear();
    }

    /** Creates the first batch with polls blocked and leaves it in_progress with 2 of its 8 requests done. */
    private String firstBatchHeldAfterProgress() {
        String batchId = awaitBatch(sim, 0);
        stepToCompleted(sim, batchId, 2);
        unblockPolls();
        return batchId;
    }

    @Test
    void stuckBatchIsReportedByLogAndEvent() throws Exception {
        startSim(b -> b.stepDelay(ManualBatches.NEVER).linesPerStep(1));
        blockPolls();
        configureComponent(context, KEY, c -> c.setMaxRetries(1));
        addRoutesAndStart(routes("stuck", "maxRequestsPerBatch=8", "batchEvents=true&stuckBatchTimeout=300"));

        List<String> ids = sendCalculations("s-", 8);
        String batchId = firstBatchHeldAfterProgress();

        await().atMost(Duration.ofSeconds(20)).until(() -> !events("STUCK").isEmpty());
        Exchange stuck = events("STUCK").get(0);
        assertThat(stuck.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID)).isEqualTo(batchId);
        assertThat(stuck.getMessage().getHeader(OpenAIBatchConstants.BATCH_STATUS)).isEqualTo("in_progress");
        assertThat(stuck.getMessage().getHeader(OpenAIBatchConstants.COMPLETED_COUNT)).isEqualTo(2);
        assertThat(logs.messages(Level.WARN, "without progress")).hasSize(1).allSatisfy(m -> assertThat(m)
                .contains(batchId));

        // reported once and not cancelled (cancelStuckBatches is off), however often the engine looks again: every
        // later poll sees the batch without progress for longer than stuckBatchTimeout
        long polls = sim.stats().calls(POLLS);
        await().atMost(Duration.ofSeconds(20)).until(() -> sim.stats().calls(POLLS) >= polls + 3);
        assertThat(events("STUCK")).hasSize(1);
        assertThat(logs.messages(Level.WARN, "without progress")).hasSize(1);
        assertThat(status(batchId)).isEqualTo("in_progress");
        assertThat(sim.stats().calls("POST /v1/batches/{id}/cancel")).isZero();

        stepToEnd(sim, batchId);
        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 8);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        assertThat(sim.stats().batchesCreated()).isEqualTo(1);
        assertNoFilesLeft();
    }

    @Test
    void stuckBatchIsCancelledAndItsUnfinishedRequestsResubmitted() throws Exception {
        startSim(b -> b.stepDelay(ManualBatches.NEVER).linesPerStep(1));
        blockPolls();
        configureComponent(context, KEY, c -> c.setMaxRetries(1));
        addRoutesAndStart(routes("stuckc", "maxRequestsPerBatch=8",
                "batchEvents=true&stuckBatchTimeout=300&cancelStuckBatches=true"));

        List<String> ids = sendCalculations("sc-", 8);
        String batchId = firstBatchHeldAfterProgress();

        // the engine cancels it; the service carries the cancellation out at its next step
        await().atMost(Duration.ofSeconds(20)).until(() -> "cancelling".equals(status(batchId)));
        // the engine's downloads fail until the test has blocked the polls again: the batch of the resubmitted
        // requests is then created while the polls fail, and run to its end before the engine sees it
        sim.faults().probability("GET /v1/files/*/content", 1.0, Fault.SERVER_ERROR_500);
        assertThat(ManualBatches.status(stepToEnd(sim, batchId))).isEqualTo("cancelled");
        await().atMost(Duration.ofSeconds(20))
                .until(() -> sim.stats().calls("GET /v1/files/{id}/content") > 0);
        unblockPolls();
        blockPolls();
        String retryBatch = awaitBatch(sim, 1);
        assertThat(ManualBatches.status(stepToEnd(sim, retryBatch))).isEqualTo("completed");
        unblockPolls();

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 8);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        assertThat(status(batchId)).isEqualTo("cancelled");
        assertThat(completed(sim.batch(batchId))).isEqualTo(2);
        assertThat(outcomes.results().stream().filter(o -> o.attempt() == 1)).hasSize(2)
                .allSatisfy(o -> assertThat(o.batchId()).isEqualTo(batchId));
        assertThat(outcomes.results().stream().filter(o -> o.attempt() == 2)).hasSize(6)
                .allSatisfy(o -> assertThat(o.batchId()).isEqualTo(retryBatch));
        for (String id : ids) {
            assertThat(outcomes.only(id).body()).isEqualTo(answer(id));
        }
        assertThat(events("STUCK")).hasSize(1);
        assertThat(logs.messages(Level.WARN, "cancelled stuck batch")).hasSize(1);
        assertThat(sim.stats().batchesCreated()).isEqualTo(2);
        assertNoSegmentAttemptSubmittedTwice();
        assertNoFilesLeft();
    }
}
