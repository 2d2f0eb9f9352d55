package dev.camelbatch.openaibatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import dev.camelbatch.openaibatch.simulator.Execution;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the simulator saw, checked by content rather than by label: which requests each batch executed, how many
 * batches each segment attempt made, and what is left at the simulator.
 */
public final class ExecutionAudit {

    /** Error codes of a line that the engine resubmits (the request was not answered for good). */
    private static final Set<String> RETRYABLE_CODES = Set.of("batch_expired", "request_timeout",
            "rate_limit_exceeded", "server_error", "internal_error");

    private ExecutionAudit() {
    }

    /**
     * No request was executed by two batches, except the legitimate resubmission of a request whose execution ended
     * without a final answer (HTTP 429 or 5xx, a retryable error code): every execution of a custom id but its last
     * must be such a failure. Requests a batch did not run (cancelled, expired) are not executions at all.
     */
    public static void assertNoRequestExecutedTwice(BatchSimulator sim) {
        assertNoRequestExecutedTwice(sim, Set.of());
    }

    /**
     * The same, but for the custom ids in {@code sentTwice}: requests a client sent a second time because it could
     * not know whether the first send was acknowledged (a producer killed in between), which are two requests to
     * the component.
     */
    public static void assertNoRequestExecutedTwice(BatchSimulator sim, Set<String> sentTwice) {
        assertThat(sim.recordsExecutions()).as("the simulator records executions").isTrue();
        List<String> twice = new ArrayList<>();
        for (Map.Entry<String, List<Execution>> e : sim.executionsByCustomId().entrySet()) {
            if (sentTwice.contains(e.getKey())) {
                continue;
            }
            List<Execution> runs = e.getValue();
            for (int i = 0; i < runs.size() - 1; i++) {
                if (!retryable(runs.get(i))) {
                    twice.add(e.getKey() + " by " + runs.stream().map(Execution::batchId).toList());
                    break;
                }
            }
        }
        assertThat(twice).as("requests executed by two batches although the first answered them").isEmpty();
    }

    /** Every created batch carries a segment attempt of its own: batches created == segment attempts submitted. */
    public static void assertOneBatchPerSegmentAttempt(BatchSimulator sim) {
        Map<String, Integer> perLabel = new HashMap<>();
        for (Map<String, String> md : sim.stats().createdBatchMetadata()) {
            perLabel.merge(md.get(BatchEngine.META_SEGMENT) + "/" + md.get(BatchEngine.META_ATTEMPT), 1,
                    Integer::sum);
        }
        assertThat(perLabel).as("batches created per segment attempt")
                .allSatisfy((label, n) -> assertThat(n).as(label).isEqualTo(1));
        assertThat(sim.stats().batchesCreated()).as("batches created").isEqualTo(perLabel.size());
    }

    /** No input, output or error file left at the simulator. */
    public static void assertNoRemoteFilesLeft(BatchSimulator sim) {
        assertThat(sim.stats().filesStored()).as("remote files left").isZero();
    }

    /** The three checks above. */
    public static void assertClean(BatchSimulator sim) {
        assertNoRequestExecutedTwice(sim);
        assertOneBatchPerSegmentAttempt(sim);
        assertNoRemoteFilesLeft(sim);
    }

    private static boolean retryable(Execution e) {
        Integer status = e.statusCode();
        if (status != null) {
            return status == 429 || status >= 500;
        }
        return e.errorCode() != null && RETRYABLE_CODES.contains(e.errorCode());
    }
}
