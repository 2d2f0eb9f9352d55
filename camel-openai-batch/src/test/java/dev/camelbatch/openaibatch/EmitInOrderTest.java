package dev.camelbatch.openaibatch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code emitInOrder=true}: the simulator writes output lines shuffled and failures to the error file, yet the route
 * sees every request in the order it was sent, results and errors mixed, also when a line fails in the route and when
 * the consumer is stopped and started again in the middle of the batch without the sorted file (as on a node taking
 * over).
 */
class EmitInOrderTest extends CamelTestSupport {

    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    final List<String> delivered = Collections.synchronizedList(new ArrayList<>());
    final AtomicBoolean failedOnce = new AtomicBoolean();
    volatile int stopAfter = Integer.MAX_VALUE;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey("sk-test-order").port(0).stepDelay(Duration.ofMillis(10))
                .linesPerStep(100).seed(5).build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        TestComponents.onSimulator(context, sim, "sk-test-order", storeDir);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:ordered?model=gpt-4o-mini&maxRequestsPerBatch=120"
                                     + "&batchTimeout=100000");
                from("openai-batch:ordered?pollInterval=20&maxPollInterval=100&emitInOrder=true")
                        .routeId("consumer")
                        .process(e -> {
                            int index = e.getProperty(Exchange.BATCH_INDEX, Integer.class);
                            if (index == 40 && failedOnce.compareAndSet(false, true)) {
                                throw new IllegalStateException("route failure at line 40, delivered again later");
                            }
                            // slow enough for the test to stop the consumer in the middle of the batch
                            Thread.sleep(5);
                            delivered.add(e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class)
                                          + (e.getMessage().getHeader(OpenAIBatchConstants.IS_ERROR, Boolean.class)
                                                  ? "!" : "") + "@" + index);
                        });
            }
        };
    }

    @Test
    void resultsAndErrorsInRequestOrderAcrossAFailureAndARestart() throws Exception {
        int n = 120;
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String prompt = i % 9 == 4 ? "FAIL_400 please " + i : "Calculate: 1 + " + i + " = ";
            Exchange ex = template.request("direct:in", e -> e.getMessage().setBody(prompt));
            assertThat(ex.getException()).isNull();
            expected.add(ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class)
                         + (i % 9 == 4 ? "!" : "") + "@" + i);
        }
        // stop the consumer in the middle of the batch, then start it again: it continues from the checkpoint
        await().atMost(Duration.ofSeconds(30)).until(() -> delivered.size() >= 70);
        context.getRouteController().stopRoute("consumer");
        int before = delivered.size();
        assertThat(before).isLessThan(n);
        // the sorted file is gone, as on another node taking over: the checkpoint says the batch is emitted in
        // order, so it is sorted again (the same sequence) and emission continues after the checkpoint
        List<Path> sorted;
        try (Stream<Path> files = Files.walk(storeDir)) {
            sorted = files.filter(p -> p.getFileName().toString().endsWith(".ordered.jsonl")).toList();
        }
        assertThat(sorted).hasSize(1);
        Files.delete(sorted.get(0));
        context.getRouteController().startRoute("consumer");
        await().atMost(Duration.ofSeconds(30)).until(() -> delivered.size() >= n);
        Thread.sleep(300);
        assertThat(failedOnce).isTrue();
        assertThat(delivered).containsExactlyElementsOf(expected);
    }
}
