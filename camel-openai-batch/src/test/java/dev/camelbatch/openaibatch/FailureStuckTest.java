package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.List;

import org.apache.camel.Exchange;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A batch that stops making progress: reported (WARN log, STUCK event); with cancelStuckBatches=true it is
 * cancelled and its unfinished requests are resubmitted and complete.
 */
@Timeout(300)
class FailureStuckTest extends FailureTestSupport {

    private String stickFirstBatchAfterProgress() {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> !sim.batchIds()
                .isEmpty() && sim.batch(sim.batchIds().get(0)).path("request_counts").path("completed").asInt() >= 2);
        String batchId = sim.batchIds().get(0);
        sim.makeStuck(batchId);
        return batchId;
    }

    @Test
    void stuckBatchIsReportedByLogAndEvent() throws Exception {
        startSim(b -> b.stepDelay(Duration.ofMillis(30)).linesPerStep(1));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("stuck", "maxRequestsPerBatch=8", "batchEvents=true&stuckBatchTimeout=300"));

        List<String> ids = sendCalculations("s-", 8);
        String batchId = stickFirstBatchAfterProgress();

        await().atMost(Duration.ofSeconds(10)).until(() -> !events("STUCK").isEmpty());
        Exchange stuck = events("STUCK").get(0);
        assertThat(stuck.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID)).isEqualTo(batchId);
        assertThat(stuck.getMessage().getHeader(OpenAIBatchConstants.BATCH_STATUS)).isEqualTo("in_progress");
        assertThat(logs.messages(Level.WARN, "without progress")).hasSize(1).allSatisfy(m -> assertThat(m)
                .contains(batchId));
        // reported once, not cancelled (cancelStuckBatches is off)
        Thread.sleep(400);
        assertThat(events("STUCK")).hasSize(1);
        assertThat(status(batchId)).isEqualTo("in_progress");

        sim.unstuck(batchId);
        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 8);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        assertThat(sim.stats().batchesCreated()).isEqualTo(1);
        assertNoFilesLeft();
    }

    @Test
    void stuckBatchIsCancelledAndItsUnfinishedRequestsResubmitted() throws Exception {
        startSim(b -> b.stepDelay(Duration.ofMillis(30)).linesPerStep(1));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("stuckc", "maxRequestsPerBatch=8",
                "batchEvents=true&stuckBatchTimeout=300&cancelStuckBatches=true"));

        List<String> ids = sendCalculations("sc-", 8);
        String batchId = stickFirstBatchAfterProgress();

        // the engine cancels it; the service then carries the cancellation out
        await().atMost(Duration.ofSeconds(10)).until(() -> "cancelling".equals(status(batchId)));
        sim.unstuck(batchId);

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 8);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        int finishedBefore = sim.batch(batchId).path("request_counts").path("completed").asInt();
        assertThat(status(batchId)).isEqualTo("cancelled");
        assertThat(outcomes.results().stream().filter(o -> o.attempt() == 1)).hasSize(finishedBefore);
        assertThat(outcomes.results().stream().filter(o -> o.attempt() == 2)).hasSize(8 - finishedBefore);
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
