package dev.camelbatch.openaibatch;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
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

/**
 * N requests in, N results out through real batches on the simulator, with the store in a database
 * ({@code dataSource}): single requests, a JSONL document, a document refused for a duplicate found in a later
 * chunk (with its line number), carried headers, and the store empty at the end.
 */
@Timeout(300)
abstract class JdbcEndToEndSupport extends CamelTestSupport {

    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey("sk-test-jdbc").port(0).stepDelay(Duration.ofMillis(20))
                .linesPerStep(7).seed(11).build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    abstract DataSource dataSource();

    abstract String tablePrefix();

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        context.getRegistry().bind("myDataSource", dataSource());
        OpenAIBatchComponent component = TestComponents.onSimulator(context, sim, "sk-test-jdbc", storeDir);
        component.getConfiguration().setNodeId("node-e2e");
        component.getConfiguration().setLeaseDuration(5_000);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                String store = "dataSource=#myDataSource&tablePrefix=" + tablePrefix();
                from("direct:in")
                        .to("openai-batch:reviews?" + store + "&model=gpt-4o-mini&maxRequestsPerBatch=10"
                            + "&batchTimeout=300&carryHeaders=ticketId");
                // a model whose segment stays open until flushed
                from("direct:hold")
                        .to("openai-batch:reviews?" + store + "&model=gpt-4o&batchTimeout=600000");
                from("openai-batch:reviews?" + store + "&pollInterval=30&maxPollInterval=200")
                        .to("mock:out");
            }
        };
    }

    @Test
    void requestsAndDocumentsComeBackThroughTheDatabase() throws Exception {
        int singles = 25;
        int docLines = 15;
        MockEndpoint out = getMockEndpoint("mock:out");
        out.expectedMessageCount(singles + docLines + 2);
        Map<String, Integer> sent = new HashMap<>();
        template.send("direct:hold", e -> {
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "held-1");
            e.getMessage().setBody("Calculate: 1 + 1000 = ");
        });
        sent.put("held-1", 1000);
        for (int i = 0; i < singles; i++) {
            int k = i;
            Exchange ex = template.request("direct:in", e -> {
                e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "s-" + k);
                e.getMessage().setBody("Calculate: 1 + " + k + " = ");
                e.getMessage().setHeader("ticketId", (long) k);
            });
            assertThat(ex.getException()).isNull();
            sent.put("s-" + k, k);
        }

        // a document whose line 1100 repeats a spooled id: refused with that line, nothing of it stays
        StringBuilder bad = new StringBuilder();
        for (int i = 1; i <= 1_200; i++) {
            String id = i == 1_100 ? "held-1" : "bad-" + i;
            bad.append(line(id, i)).append('\n');
        }
        Exchange refused = template.request("direct:in",
                e -> e.getMessage().setBody(bad.toString().getBytes(StandardCharsets.UTF_8)));
        assertThat(refused.getException()).isInstanceOf(InvalidRequestException.class);
        assertThat(((InvalidRequestException) refused.getException()).getLineNumber()).isEqualTo(1_100);

        StringBuilder doc = new StringBuilder();
        for (int i = 0; i < docLines; i++) {
            int k = 100 + i;
            doc.append(line("d-" + k, k)).append('\n');
            sent.put("d-" + k, k);
        }
        Exchange ok = template.request("direct:in",
                e -> e.getMessage().setBody(doc.toString().getBytes(StandardCharsets.UTF_8)));
        assertThat(ok.getException()).isNull();
        assertThat(ok.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(docLines);
        template.send("direct:hold", e -> {
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "held-2");
            e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true);
            e.getMessage().setBody("Calculate: 1 + 1001 = ");
        });
        sent.put("held-2", 1001);

        out.assertIsSatisfied(30_000);
        for (Exchange ex : out.getReceivedExchanges()) {
            String customId = ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
            Integer k = sent.get(customId);
            assertThat(k).as("custom id %s was sent", customId).isNotNull();
            assertThat(ex.getMessage().getBody(String.class)).isEqualTo("1 + " + k + " = " + (k + 1));
            if (customId.startsWith("s-")) {
                assertThat(ex.getMessage().getHeader("ticketId")).isEqualTo((long) k);
            }
        }
        assertThat(out.getReceivedExchanges()).extracting(e -> e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID))
                .doesNotHaveDuplicates().noneMatch(id -> id.toString().startsWith("bad-"));

        // by label (one batch per segment attempt) and by content (no request executed by two batches)
        ExecutionAudit.assertNoRequestExecutedTwice(sim);
        ExecutionAudit.assertOneBatchPerSegmentAttempt(sim);

        OpenAIBatchEndpoint ep = context.getEndpoint("openai-batch:reviews?dataSource=#myDataSource&tablePrefix="
                                                     + tablePrefix(), OpenAIBatchEndpoint.class);
        OpenAIBatchRuntime rt = ep.acquireRuntime();
        try {
            assertThat(rt.store().supportsLeases()).as("the runtime's store has leases (JDBC)").isTrue();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(rt.store().segments()).isEmpty();
                assertThat(sim.stats().filesStored()).isZero();
            });
            assertThat(rt.store().history(100)).hasSizeGreaterThanOrEqualTo(4);
            assertThat(rt.store().containsCustomId("held-1")).isFalse();
        } finally {
            rt.release();
        }
    }

    private static String line(String id, int k) {
        return "{\"custom_id\":\"" + id + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":"
               + "\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Calculate: 1 + " + k + " = \"}]}}";
    }
}
