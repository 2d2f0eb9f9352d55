package dev.camelbatch.openaibatch;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.usage.UsageTotals;
import dev.camelbatch.openaibatch.simulator.Fault;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * submit with track=true: the consumer of the same name emits the lines of the submitted batches and deletes their
 * files like any other; its batch events carry progress, usage and cost; the running totals add up.
 */
@Timeout(300)
class OperationTrackedSubmitTest extends OperationsSupport {

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("openai-batch:tracked?batchEvents=true")
                        .choice()
                            .when(header(OpenAIBatchConstants.EVENT_TYPE).isNotNull()).to("mock:events")
                            .otherwise().to("mock:lines");
            }
        };
    }

    @Test
    void aTrackedBatchWaitsForItsConsumerAndItsFilesAreTheConsumers() throws Exception {
        // no consumer of this name: the batch is created and recorded as submitted, and stays so
        Exchange ex = call("openai-batch:idle?operation=submit", jsonl("i", 2, "gpt-4o-mini"), null);
        assertThat(ex.getException()).isNull();
        String id = ex.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID, String.class);
        // the same custom ids again while they are tracked: refused, nothing created, nothing stored
        long created = sim.stats().batchesCreated();
        Exchange dup = call("openai-batch:idle?operation=submit", jsonl("i", 1, "gpt-4o-mini"), null);
        assertThat(dup.getException()).isInstanceOf(InvalidRequestException.class).hasMessageContaining("i-0");
        assertThat(sim.stats().batchesCreated()).isEqualTo(created);
        Exchange w = call("openai-batch:idle?operation=wait&waitTimeout=20000", null,
                Map.of(OpenAIBatchConstants.BATCH_ID, id));
        assertThat(w.getMessage().getBody(Batch.class).getStatus()).isEqualTo("completed");
        Exchange del = call("openai-batch:idle?operation=deleteFiles", null, Map.of(OpenAIBatchConstants.BATCH_ID, id));
        assertThat(del.getException()).isInstanceOf(OpenAIBatchOperationException.class)
                .hasMessageContaining("tracked by openai-batch:idle").hasMessageContaining("SUBMITTED");
        assertThat(((OpenAIBatchOperationException) del.getException()).getReason())
                .isEqualTo(OpenAIBatchOperationException.Reason.CONFLICT);
    }

    /**
     * The create's answer is lost and the batch cannot be looked up (listing fails): the submission reports the
     * outcome as unknown and leaves the segment to the engine, which finds the batch once listing works again; the
     * batch is neither thrown away nor made twice, and its lines come out once.
     */
    @Test
    void aCreateWhoseOutcomeIsUnknownIsLeftToTheEngine() throws Exception {
        sim.reset();
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("openai-batch:unknown").to("mock:unknownLines");
            }
        });
        MockEndpoint lines = getMockEndpoint("mock:unknownLines");
        lines.expectedMessageCount(3);
        sim.faults().nextCalls("POST /v1/batches", 1, Fault.LOST_RESPONSE)
                .nextCalls("GET /v1/batches", 1_000, Fault.SERVER_ERROR_500);
        Exchange ex = call("openai-batch:unknown?operation=submit", jsonl("u", 3, "gpt-4o-mini"), null);

        assertThat(ex.getException()).isInstanceOf(OpenAIBatchOperationException.class)
                .hasMessageContaining("may have been created");
        assertThat(((OpenAIBatchOperationException) ex.getException()).getReason())
                .isEqualTo(OpenAIBatchOperationException.Reason.OUTCOME_UNKNOWN);
        assertThat(sim.batchIds()).as("the batch exists").hasSize(1);
        String batchId = sim.batchIds().get(0);
        assertThat(sim.batch(batchId).path("status").asText()).as("its input file was kept")
                .isNotEqualTo("failed");

        sim.faults().clear();
        lines.assertIsSatisfied(30_000);
        assertThat(lines.getReceivedExchanges()).extracting(e -> e.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID))
                .containsOnly(batchId);
        assertThat(sim.stats().batchesCreated()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sim.stats().filesStored()).isZero());
    }

    @Test
    void trackedBatchesComeOutOfTheConsumer() throws Exception {
        sim.reset();
        MockEndpoint lines = getMockEndpoint("mock:lines");
        lines.expectedMessageCount(12);
        Exchange ex = call("openai-batch:tracked?operation=submit&maxRequestsPerBatch=5",
                jsonl("t", 12, "gpt-4o-mini"), null);
        assertThat(ex.getException()).isNull();
        List<String> ids = ids(ex);
        assertThat(ids).hasSize(3);
        assertThat(ex.getMessage().getBody(List.class)).hasSize(3);

        lines.assertIsSatisfied(30_000);
        Set<String> customIds = new HashSet<>();
        for (Exchange line : lines.getReceivedExchanges()) {
            assertThat(ids).contains(line.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID, String.class));
            customIds.add(line.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class));
            assertThat(line.getMessage().getHeader(OpenAIBatchConstants.ATTEMPT)).isEqualTo(1);
        }
        assertThat(customIds).hasSize(12);
        // cleaned up like any other batch
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sim.stats().filesStored()).isZero());

        MockEndpoint events = getMockEndpoint("mock:events");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(events.getReceivedExchanges().stream()
                .filter(e -> "DONE".equals(e.getMessage().getHeader(OpenAIBatchConstants.EVENT_TYPE))).count())
                .isEqualTo(3));
        long prompt = 0;
        long completion = 0;
        BigDecimal cost = BigDecimal.ZERO;
        for (Exchange e : events.getReceivedExchanges()) {
            String type = e.getMessage().getHeader(OpenAIBatchConstants.EVENT_TYPE, String.class);
            if ("PROGRESS".equals(type) || "COMPLETED".equals(type)) {
                assertThat(e.getMessage().getHeader(OpenAIBatchConstants.PROGRESS_PERCENT, Double.class))
                        .isBetween(0.0, 100.0);
            }
            if ("COMPLETED".equals(type)) {
                Batch b = e.getMessage().getBody(Batch.class);
                assertThat(e.getMessage().getHeader(OpenAIBatchConstants.PROMPT_TOKENS))
                        .isEqualTo(b.getUsage().getInputTokens());
                assertThat(e.getMessage().getHeader(OpenAIBatchConstants.ESTIMATED_COST)).isNotNull();
                assertThat(e.getMessage().getHeader(OpenAIBatchConstants.ETA)).isEqualTo(0L);
            }
            if ("DONE".equals(type)) {
                assertThat(e.getMessage().getHeader(OpenAIBatchConstants.USAGE_SOURCE)).isEqualTo("batch");
                assertThat(e.getMessage().getHeader(OpenAIBatchConstants.COST_MODEL)).isEqualTo("gpt-4o-mini");
                long p = e.getMessage().getHeader(OpenAIBatchConstants.PROMPT_TOKENS, Long.class);
                long c = e.getMessage().getHeader(OpenAIBatchConstants.COMPLETION_TOKENS, Long.class);
                BigDecimal est = e.getMessage().getHeader(OpenAIBatchConstants.ESTIMATED_COST, BigDecimal.class);
                assertThat(est).isEqualByComparingTo(new BigDecimal("0.075").multiply(BigDecimal.valueOf(p))
                        .add(new BigDecimal("0.30").multiply(BigDecimal.valueOf(c)))
                        .divide(BigDecimal.valueOf(1_000_000)));
                prompt += p;
                completion += c;
                cost = cost.add(est);
            }
        }
        UsageTotals totals = UsageTotals.of("tracked");
        assertThat(totals.batches()).isEqualTo(3);
        assertThat(totals.promptTokens()).isEqualTo(prompt).isPositive();
        assertThat(totals.completionTokens()).isEqualTo(completion);
        assertThat(totals.estimatedCost()).isEqualByComparingTo(cost);
        assertThat(totals.batchesWithUnknownCost()).isZero();
        assertThat(totals.usageByModel()).containsOnlyKeys("gpt-4o-mini");
    }
}
