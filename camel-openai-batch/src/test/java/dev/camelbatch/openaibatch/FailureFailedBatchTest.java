package dev.camelbatch.openaibatch;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Batches that end in status {@code failed}: quota errors (token_limit_exceeded) wait and are resubmitted, and
 * maxEnqueuedTokens keeps the component under a known quota; errors naming lines fail those requests only and
 * resubmit the rest; anything else is retried a bounded number of times, then every request comes out as an error.
 */
@Timeout(300)
class FailureFailedBatchTest extends FailureTestSupport {

    @Test
    void tokenLimitExceededWaitsAndResubmitsUntilEverythingCompletes() throws Exception {
        // the simulator's estimate is ~6 tokens per prompt here: one batch of 5 fits under 40, two do not; slow
        // enough steps that the three batches are in flight together
        startSim(b -> b.stepDelay(Duration.ofMillis(40)).linesPerStep(1).enqueuedTokenLimit(MODEL, 40));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("quota", "maxRequestsPerBatch=5", "batchEvents=true"));

        List<String> ids = sendCalculations("q-", 15);

        await().atMost(Duration.ofSeconds(30)).until(() -> outcomes.total() >= 15);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        for (String id : ids) {
            assertThat(outcomes.only(id).body()).isEqualTo(answer(id));
        }
        // the limit was hit, and the failed segments were resubmitted (each time as a new, distinct submission)
        assertThat(sim.stats().batchesByStatus().get("failed")).isPositive();
        assertThat(sim.stats().batchesByStatus().get("completed")).isEqualTo(3);
        assertThat(events("FAILED")).isNotEmpty().allSatisfy(e -> assertThat(e.getMessage().getBody(Batch.class)
                .getErrors().getData().get(0).getCode()).isEqualTo("token_limit_exceeded"));
        assertThat(logs.messages(Level.WARN, "failed on a quota")).isNotEmpty();
        assertNoSegmentAttemptSubmittedTwice();
        assertNoFilesLeft();
    }

    @Test
    void maxEnqueuedTokensKeepsTheComponentUnderTheQuota() throws Exception {
        startSim(b -> b.linesPerStep(1).enqueuedTokenLimit(MODEL, 40));
        // a batch of 5 prompts "Calculate: 1 + k = " is 80 tokens in o200k_base (fixed reference, see
        // TokenEstimatorTest: 9 for the prompt, 1 for "user", 3 for the message, 3 for the reply, per request); allow
        // 1.5 batches in flight
        long perBatch = 5 * (9 + 1 + 3 + 3);
        long quota = perBatch * 3 / 2;
        configureComponent(context, KEY, c -> c.setMaxEnqueuedTokens(quota));
        addRoutesAndStart(routes("tokens", "maxRequestsPerBatch=5", ""));

        List<String> ids = sendCalculations("t-", 15);

        await().atMost(Duration.ofSeconds(30)).until(() -> outcomes.total() >= 15);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        assertThat(sim.stats().batchesCreated()).isEqualTo(3);
        assertThat(sim.stats().batchesByStatus().get("failed")).as("batches failed on the quota").isZero();
        assertNoFilesLeft();
    }

    @Test
    void errorsNamingLinesFailThoseRequestsAndResubmitTheRest() throws Exception {
        startSim(b -> b);
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("badline", "maxRequestsPerBatch=5", ""));

        // the simulator refuses lines over 16 MiB (invalid_json_line); the producer accepts them (limit 190 MB)
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < 5; k++) {
            String id = "bl-" + k;
            String prompt = k == 2 ? "Echo " + "a".repeat(16 * 1024 * 1024 + 10) : "Calculate: 1 + " + k + " = ";
            send(id, prompt, k == 4);
            ids.add(id);
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> outcomes.total() >= 5);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        Outcome bad = outcomes.only("bl-2");
        assertThat(bad.error()).isTrue();
        assertThat(bad.errorCode()).isEqualTo("invalid_request_line");
        assertThat(bad.errorMessage()).contains("invalid_json_line").contains("16777216");
        assertThat(outcomes.results()).hasSize(4).allSatisfy(o -> assertThat(o.body()).isEqualTo(answer(o
                .customId())));
        // two batches: the failed one (line 3 named) and one with the 4 other requests
        assertThat(sim.stats().batchesCreated()).isEqualTo(2);
        assertThat(sim.stats().batchesByStatus().get("failed")).isEqualTo(1);
        assertNoSegmentAttemptSubmittedTwice();
        assertNoFilesLeft();
    }

    @Test
    void handMadeSegmentWithInvalidLinesFailsOnlyThoseLines() throws Exception {
        startSim(b -> b);
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("handmade", "maxRequestsPerBatch=5", ""));
        await().until(() -> context.getRoute("consumer") != null && engine() != null);
        BatchEngine engine = engine();

        // lines the producer would never write: no model (missing_model), a GET (invalid_method)
        String endpoint = "/v1/chat/completions";
        List<SpoolRecord> records = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            String id = "hm-" + k;
            ObjectNode body = MAPPER.createObjectNode();
            if (k != 1) {
                body.put("model", MODEL);
            }
            body.putArray("messages").addObject().put("role", "user").put("content", "Calculate: 1 + " + k + " = ");
            byte[] line = RequestLines.serialize(MAPPER, id, endpoint, body);
            if (k == 4) {
                line = new String(line, StandardCharsets.UTF_8).replace("\"POST\"", "\"GET\"")
                        .getBytes(StandardCharsets.UTF_8);
            }
            records.add(new SpoolRecord(id, line, null, 0));
            ids.add(id);
        }
        engine.store().createSealedSegment(endpoint, MODEL, 1, null, records);
        engine.wakeUp();

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 6);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        Map<String, Outcome> errors = outcomes.errors().stream()
                .collect(Collectors.toMap(Outcome::customId, o -> o));
        assertThat(errors).containsOnlyKeys("hm-1", "hm-4");
        assertThat(errors.get("hm-1").errorCode()).isEqualTo("invalid_request_line");
        assertThat(errors.get("hm-1").errorMessage()).contains("missing_model");
        assertThat(errors.get("hm-4").errorMessage()).contains("invalid_method").contains("GET");
        assertThat(outcomes.results()).hasSize(4);
        assertThat(sim.stats().batchesCreated()).isEqualTo(2);
        assertNoFilesLeft();
    }

    @Test
    void otherFailuresAreRetriedThenEveryRequestComesOutAsAnError() throws Exception {
        // the simulator refuses batches of more than 4 requests (too_many_requests, no line): never goes away
        startSim(b -> b.maxRequestsPerBatch(4));
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("toobig", "maxRequestsPerBatch=6", "batchEvents=true"));

        List<String> ids = sendCalculations("tb-", 9); // a segment of 6 (fails) and one of 3 (fine)

        await().atMost(Duration.ofSeconds(30)).until(() -> outcomes.total() >= 9);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        List<Outcome> errors = outcomes.errors();
        assertThat(errors).hasSize(6).allSatisfy(o -> {
            assertThat(o.errorCode()).isEqualTo("batch_failed");
            assertThat(o.errorMessage()).contains("too_many_requests");
        });
        assertThat(errors).extracting(Outcome::customId)
                .containsExactlyInAnyOrder("tb-0", "tb-1", "tb-2", "tb-3", "tb-4", "tb-5");
        assertThat(outcomes.results()).hasSize(3);
        // the failing segment was tried maxBatchFailures (3) times, each as a distinct submission
        String failingSegment = sim.stats().createdBatchMetadata().get(0).get(BatchEngine.META_SEGMENT);
        assertThat(sim.stats().batchesCreatedByMetadata(BatchEngine.META_SEGMENT, failingSegment)).isEqualTo(3);
        assertThat(sim.stats().batchesByStatus().get("failed")).isEqualTo(3);
        assertThat(events("FAILED")).hasSize(3);
        assertThat(logs.messages(Level.ERROR, "come out as errors")).hasSize(1);
        assertNoSegmentAttemptSubmittedTwice();
        assertNoFilesLeft();
    }
}
