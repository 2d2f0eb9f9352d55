package dev.camelbatch.openaibatch.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.OpenAIBatchConsumer;
import dev.camelbatch.openaibatch.engine.EngineStats;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * API economy: API calls per poll cycle with 1, 10 and 100 batches in flight (target at most 2), and the
 * total API calls per batch over its life.
 * <p>
 * Arguments: {@code [inFlight=1,10,100] [requestsPerBatch=10]}.
 */
public final class PollEconomyBenchmark {

    private PollEconomyBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String[] sizes = (args.length > 0 ? args[0] : "1,10,100").split(",");
        int perBatch = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        System.out.printf("poll economy benchmark: %s batches in flight, %d requests per batch, %s%n",
                String.join("/", sizes), perBatch, HeapMeter.machine());
        for (String s : sizes) {
            int k = Integer.parseInt(s.trim());
            callsPerCycle(k, perBatch);
        }
        for (String s : sizes) {
            int k = Integer.parseInt(s.trim());
            callsPerBatchLife(k, perBatch);
        }
    }

    /** k batches held in validating (a long step delay); count the calls of many poll cycles. */
    private static void callsPerCycle(int k, int perBatch) throws Exception {
        Path dir = Files.createTempDirectory("openai-batch-poll-");
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-poll").port(0).stepDelay(Duration.ofHours(1))
                .build().start()) {
            CamelContext context = context(sim, dir, k, perBatch, 20, e -> {
            });
            context.start();
            send(context, k * perBatch);
            long deadline = System.currentTimeMillis() + 60_000;
            while (sim.stats().batchesCreated() < k && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            EngineStats stats = engine(context);
            Thread.sleep(300);
            long cycles0 = stats.pollCycles.get();
            long list0 = sim.stats().calls("GET /v1/batches");
            long get0 = sim.stats().calls("GET /v1/batches/{id}");
            long total0 = sim.stats().totalCalls();
            Thread.sleep(3_000);
            long cycles = stats.pollCycles.get() - cycles0;
            long list = sim.stats().calls("GET /v1/batches") - list0;
            long get = sim.stats().calls("GET /v1/batches/{id}") - get0;
            long total = sim.stats().totalCalls() - total0;
            double perCycle = (double) total / Math.max(1, cycles);
            System.out.printf("in flight %3d: %d poll cycles, %d list calls, %d retrieve calls, %d calls in all:"
                              + " %.2f API calls per poll cycle (target <= 2: %s)%n", k, cycles, list, get, total,
                    perCycle, perCycle <= 2 ? "met" : "MISSED");
            context.stop();
        } finally {
            IngestBenchmark.deleteTree(dir);
        }
    }

    /** k batches from first request to last result; all API calls divided by k. */
    private static void callsPerBatchLife(int k, int perBatch) throws Exception {
        Path dir = Files.createTempDirectory("openai-batch-life-");
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-poll").port(0).stepDelay(Duration.ofMillis(200))
                .linesPerStep(perBatch).build().start()) {
            CountDownLatch done = new CountDownLatch(k * perBatch);
            CamelContext context = context(sim, dir, k, perBatch, 100, e -> done.countDown());
            context.start();
            send(context, k * perBatch);
            if (!done.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("results missing: " + done.getCount());
            }
            Thread.sleep(500);
            Map<String, Long> calls = sim.stats().callsByRoute();
            long total = sim.stats().totalCalls();
            System.out.printf("life of %3d batches: %d API calls, %.1f per batch (%s)%n", k, total, (double) total / k,
                    calls);
            context.stop();
        } finally {
            IngestBenchmark.deleteTree(dir);
        }
    }

    private static CamelContext context(BatchSimulator sim, Path dir, int k, int perBatch, long pollMs,
            org.apache.camel.Processor onResult) throws Exception {
        CamelContext context = new DefaultCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey("sk-poll");
        component.getConfiguration().setBaseUrl(sim.baseUrl());
        component.getConfiguration().setStoreDirectory(dir.toString());
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:poll?model=gpt-4o-mini&maxRequestsPerBatch=" + perBatch
                                     + "&batchTimeout=0");
                from("openai-batch:poll?pollInterval=" + pollMs + "&maxPollInterval=" + pollMs
                     + "&maxInFlightBatches=" + (k + 1)).routeId("consumer").process(onResult);
            }
        });
        return context;
    }

    private static void send(CamelContext context, int n) {
        ProducerTemplate t = context.createProducerTemplate();
        for (int i = 0; i < n; i++) {
            final int k = i;
            t.send("direct:in", e -> e.getMessage().setBody("Calculate: 1 + " + k + " = "));
        }
        t.send("direct:in", e -> e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true));
    }

    private static EngineStats engine(CamelContext context) {
        return ((OpenAIBatchConsumer) context.getRoute("consumer").getConsumer()).getEngine().stats();
    }
}
