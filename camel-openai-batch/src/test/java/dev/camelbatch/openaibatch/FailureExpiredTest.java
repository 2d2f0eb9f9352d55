package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A batch that expires (the 24 h window, here after 2 steps of 3 requests): the finished lines come out once, the
 * {@code batch_expired} ones are resubmitted as attempt 2, or come out as errors once the attempts are used up.
 */
@Timeout(300)
class FailureExpiredTest extends FailureTestSupport {

    @Test
    void finishedLinesOnceExpiredOnesResubmittedAsAttempt2() throws Exception {
        startSim(b -> b.linesPerStep(3).expireAfterSteps(2));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("expiry", "maxRequestsPerBatch=10&batchTimeout=60000", "batchEvents=true"));

        List<String> ids = sendCalculations("exp-", 10);

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 10);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        // 2 steps of 3 requests finished in the first batch; the other 4 expired and came back from attempt 2
        List<Outcome> first = outcomes.results().stream().filter(o -> o.attempt() == 1).toList();
        List<Outcome> second = outcomes.results().stream().filter(o -> o.attempt() == 2).toList();
        assertThat(first).hasSize(6);
        assertThat(second).hasSize(4);
        assertThat(outcomes.errors()).isEmpty();
        for (String id : ids) {
            assertThat(outcomes.only(id).body()).isEqualTo(answer(id));
        }
        assertThat(first.get(0).batchId()).isNotEqualTo(second.get(0).batchId());

        // the simulator saw two batches: the expired one with all 10, then one with exactly the 4 expired requests
        assertThat(sim.stats().batchesCreated()).isEqualTo(2);
        assertThat(sim.stats().createdBatchMetadata().get(1).get("camel_openai_batch_attempt")).startsWith("2.");
        assertThat(events("EXPIRED")).hasSize(1);
        assertThat(events("RESUBMITTED")).isNotEmpty();
        assertNoSegmentAttemptSubmittedTwice();
        assertNoFilesLeft();
    }

    @Test
    void withOneAttemptExpiredRequestsComeOutAsErrors() throws Exception {
        startSim(b -> b.linesPerStep(3).expireAfterSteps(2));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("expiry1", "maxRequestsPerBatch=10&batchTimeout=60000", "maxAttempts=1"));

        List<String> ids = sendCalculations("exp1-", 10);

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 10);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.results()).hasSize(6).allSatisfy(o -> {
            assertThat(o.attempt()).isEqualTo(1);
            assertThat(o.body()).isEqualTo(answer(o.customId()));
        });
        assertThat(outcomes.errors()).hasSize(4).allSatisfy(o -> {
            assertThat(o.errorCode()).isEqualTo("batch_expired");
            assertThat(o.errorMessage()).contains("expired");
            assertThat(o.attempt()).isEqualTo(1);
            assertThat(o.statusCode()).isNull();
        });
        assertThat(sim.stats().batchesCreated()).isEqualTo(1);
        assertNoFilesLeft();
    }
}
