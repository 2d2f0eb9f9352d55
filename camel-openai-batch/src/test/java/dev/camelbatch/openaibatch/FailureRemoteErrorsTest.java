package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.List;

import dev.camelbatch.openaibatch.simulator.Fault;
import org.apache.camel.CamelContext;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Remote errors while submitting, polling, downloading and deleting: 429/5xx/resets keep the engine going with
 * backoff; a refused key (401) stops submissions with one clear ERROR until a working key is used, and nothing
 * spooled is lost.
 */
@Timeout(300)
class FailureRemoteErrorsTest extends FailureTestSupport {

    /** 30 % of all calls fail: a third each 429, 500 and connection reset (independent draws, in this order). */
    static void thirtyPercentFaults(dev.camelbatch.openaibatch.simulator.BatchSimulator sim) {
        sim.faults().probability("*", 0.10, Fault.RATE_LIMIT_429)
                .probability("*", 0.10 / 0.90, Fault.SERVER_ERROR_500)
                .probability("*", 0.10 / 0.80, Fault.CONNECTION_RESET);
    }

    @Test
    void randomRateLimitsServerErrorsAndResetsOnEveryRoute() throws Exception {
        startSim(b -> b.linesPerStep(5));
        // no retries inside the API client: every fault reaches the engine
        configureComponent(context, KEY, c -> c.setMaxRetries(1));
        addRoutesAndStart(routes("remote", "maxRequestsPerBatch=10", ""));
        thirtyPercentFaults(sim);

        List<String> ids = sendCalculations("re-", 40);

        await().atMost(Duration.ofSeconds(40)).until(() -> outcomes.total() >= 40);
        awaitIdle(context, Duration.ofSeconds(20));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        for (String id : ids) {
            assertThat(outcomes.only(id).body()).isEqualTo(answer(id));
        }
        assertThat(sim.faults().injected()).containsKeys(Fault.RATE_LIMIT_429, Fault.SERVER_ERROR_500,
                Fault.CONNECTION_RESET);
        long faults = sim.faults().injected().values().stream().mapToLong(Long::longValue).sum();
        assertThat((double) faults / sim.stats().totalCalls()).isBetween(0.15, 0.45);
        assertNoSegmentAttemptSubmittedTwice();
        assertThat(sim.stats().batchesCreated()).isEqualTo(4);
        assertNoFilesLeft();
    }

    @Test
    void aRefusedKeyStopsSubmissionsWithOneErrorUntilAWorkingKeyIsUsed() throws Exception {
        startSim(b -> b);
        configureComponent(context, "sk-wrong-key", null);
        addRoutesAndStart(routes("auth", "maxRequestsPerBatch=5", ""));

        List<String> ids = sendCalculations("au-", 12);

        // the engine tries, is refused, and then only probes (one batch list call per probe, refused too)
        await().atMost(Duration.ofSeconds(10)).until(() -> engine().authProblem() != null);
        long probes = sim.stats().calls("GET /v1/batches");
        await().atMost(Duration.ofSeconds(20)).until(() -> sim.stats().calls("GET /v1/batches") >= probes + 3);
        assertThat(engine().authProblem()).startsWith("401");
        assertThat(sim.stats().batchesCreated()).isZero();
        assertThat(sim.stats().calls("POST /v1/files")).isEqualTo(1);
        assertThat(outcomes.total()).isZero();
        List<String> errors = logs.messages(Level.ERROR, "refused the key");
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0)).contains("401").contains("nothing spooled is lost").doesNotContain("sk-wrong-key");
        context.stop();

        // the same store with a working key: everything goes through
        CamelContext fixed = newContext(KEY, null, routes("auth", "maxRequestsPerBatch=5", ""));
        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 12);
        awaitIdle(fixed, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        assertThat(sim.stats().batchesCreated()).isEqualTo(3);
        assertThat(logs.messages(Level.ERROR, "refused the key")).hasSize(1);
        assertNoSegmentAttemptSubmittedTwice();
        assertNoFilesLeft();
    }
}
