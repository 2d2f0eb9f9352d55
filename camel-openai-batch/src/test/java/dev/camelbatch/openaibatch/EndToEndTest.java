package dev.camelbatch.openaibatch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** N requests in, N results out through real batches on the simulator. */
@Timeout(300)
class EndToEndTest extends CamelTestSupport {

    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey("sk-test-e2e").port(0).stepDelay(Duration.ofMillis(20))
                .linesPerStep(7).seed(7).build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        TestComponents.onSimulator(context, sim, "sk-test-e2e", storeDir);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in")
                        .to("openai-batch:reviews?model=gpt-4o-mini&maxRequestsPerBatch=10&batchTimeout=300"
                            + "&carryHeaders=ticketId,Review*");
                from("openai-batch:reviews?pollInterval=30&maxPollInterval=200")
                        .to("mock:out");
            }
        };
    }

    @Test
    void requestsComeBackMatchedByCustomIdAndCarriedHeaders() throws Exception {
        int n = 25;
        MockEndpoint out = getMockEndpoint("mock:out");
        out.expectedMessageCount(n);
        Map<String, Integer> sentIds = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Exchange ex = template.request("direct:in", e -> {
                int k = sentIds.size();
                e.getMessage().setBody("Calculate: 1 + " + k + " = ");
                e.getMessage().setHeader("ticketId", (long) k);
                e.getMessage().setHeader("ReviewSource", "web");
                e.getMessage().setHeader("notCarried", "x");
            });
            assertThat(ex.getException()).isNull();
            String customId = ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
            assertThat(customId).isNotBlank();
            sentIds.put(customId, i);
        }
        out.assertIsSatisfied(30_000);
        for (Exchange ex : out.getReceivedExchanges()) {
            String customId = ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
            Integer k = sentIds.get(customId);
            assertThat(k).as("custom id %s was sent", customId).isNotNull();
            assertThat(ex.getMessage().getHeader("ticketId")).isEqualTo((long) k);
            assertThat(ex.getMessage().getHeader("ReviewSource")).isEqualTo("web");
            assertThat(ex.getMessage().getHeader("notCarried")).isNull();
            assertThat(ex.getMessage().getBody(String.class)).isEqualTo("1 + " + k + " = " + (k + 1));
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.IS_ERROR)).isEqualTo(false);
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.STATUS_CODE)).isEqualTo(200);
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID, String.class)).startsWith("batch_");
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.LINE_ID, String.class))
                    .endsWith(":" + customId);
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.PROMPT_TOKENS, Long.class)).isPositive();
            assertThat(ex.getProperty(Exchange.BATCH_SIZE, Integer.class)).isPositive();
        }
        assertThat(sentIds).hasSize(n);
        // 25 requests at 10 per batch: 3 batches, each created once; every remote file deleted
        assertThat(sim.stats().batchesCreated()).isEqualTo(3);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sim.stats().filesStored()).isZero());
    }
}
