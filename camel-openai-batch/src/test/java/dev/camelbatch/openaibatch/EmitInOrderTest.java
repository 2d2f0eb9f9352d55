package dev.camelbatch.openaibatch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code emitInOrder=true}: the simulator writes output lines shuffled and failures to the error file, yet the route
 * sees every request in the order it was sent, results and errors mixed, also when a line fails in the route and when
 * the consumer is stopped and started again in the middle of the batch without the sorted file (as on a node taking
 * over).
 */
@Timeout(300)
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
                from("direct:retry").to("openai-batch:ordered-retry?model=gpt-4o-mini&maxRequestsPerBatch=60"
                                        + "&batchTimeout=100000");
                from("openai-batch:ordered-retry?pollInterval=20&maxPollInterval=100&emitInOrder=true")
                        .routeId("retry-consumer")
                        .process(e -> {
                            Thread.sleep(5);
                            retryDelivered.add(new Delivered(
                                    e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class),
                                    e.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID, String.class),
                                    e.getMessage().getHeader(OpenAIBatchConstants.ATTEMPT, Integer.class),
                                    e.getMessage().getHeader(OpenAIBatchConstants.IS_ERROR, Boolean.class),
                                    e.getProperty(Exchange.BATCH_INDEX, Integer.class)));
                        });
            }
        };
    }

    record Delivered(String customId, String batchId, int attempt, boolean error, int index) {
    }

    final List<Delivered> retryDelivered = Collections.synchronizedList(new ArrayList<>());

    /**
     * Requests that fail with a retryable status are resubmitted as attempt 2 and 3 and come out with the batch that
     * settles them; the other lines of each batch stay in request order, also across a stop/start without the sorted
     * file (whose sequence keeps the retried lines, so that it does not depend on which requests are retried).
     */
    @Test
    void retriedRequestsComeWithTheirLastBatchAndEveryBatchStaysInOrder() throws Exception {
        int n = 60;
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String prompt = i % 7 == 3 ? "FAIL_500 please " + i : "Calculate: 1 + " + i + " = ";
            Exchange ex = template.request("direct:retry", e -> e.getMessage().setBody(prompt));
            assertThat(ex.getException()).isNull();
            sent.add(ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> retryDelivered.size() >= 20);
        context.getRouteController().stopRoute("retry-consumer");
        try (Stream<Path> files = Files.walk(storeDir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".ordered.jsonl")).toList()) {
                Files.delete(p);
            }
        }
        context.getRouteController().startRoute("retry-consumer");
        await().atMost(Duration.ofSeconds(60)).until(() -> retryDelivered.size() >= n);
        // every segment done: nothing is delivered any more, a line delivered twice would be in the list by now
        awaitDone("openai-batch:ordered-retry?model=gpt-4o-mini&maxRequestsPerBatch=60&batchTimeout=100000");

        assertThat(retryDelivered).extracting(Delivered::customId).containsExactlyInAnyOrderElementsOf(sent);
        Map<String, List<Delivered>> byBatch = new LinkedHashMap<>();
        for (Delivered d : retryDelivered) {
            byBatch.computeIfAbsent(d.batchId(), k -> new ArrayList<>()).add(d);
            int i = sent.indexOf(d.customId());
            assertThat(d.error()).as("request %d", i).isEqualTo(i % 7 == 3);
            assertThat(d.attempt()).as("request %d", i).isEqualTo(i % 7 == 3 ? 3 : 1);
        }
        for (List<Delivered> batch : byBatch.values()) {
            List<Integer> positions = batch.stream().map(d -> sent.indexOf(d.customId())).toList();
            assertThat(positions).as("batch %s", batch.get(0).batchId()).isSorted();
            assertThat(batch).extracting(Delivered::index).as("CamelBatchIndex")
                    .isEqualTo(IntStream.range(0, batch.size()).boxed().toList());
        }
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
        awaitDone("openai-batch:ordered?model=gpt-4o-mini&maxRequestsPerBatch=120&batchTimeout=100000");
        assertThat(failedOnce).isTrue();
        assertThat(delivered).containsExactlyElementsOf(expected);
    }

    /** Waits until every segment of the name is done (emitted and cleaned up). */
    private void awaitDone(String producerUri) throws Exception {
        BatchStore store = Spool.store(context, producerUri);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.segments().isEmpty());
    }
}
