package dev.camelbatch.openaibatch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Health checks on the simulator: the consumer's API readiness (wrong key DOWN with the reason, good key UP) and the
 * batches check of a name (a stuck batch DOWN with its id in the details, UP again once it moves; a spool that nothing
 * drains).
 */
@Timeout(300)
class OpenAIBatchHealthCheckTest {

    static final String KEY = "sk-test-health";
    static BatchSimulator sim;

    @TempDir
    static Path baseDir;
    static final AtomicInteger DIRS = new AtomicInteger();

    CamelContext context;
    /** The simulator of the test's context: the shared one unless the test sets its own. */
    BatchSimulator target;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(20)).linesPerStep(1).seed(3)
                .build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @AfterEach
    void stopContext() {
        if (context != null) {
            context.stop();
        }
    }

    private CamelContext start(String apiKey, java.util.function.Consumer<OpenAIBatchComponent> more, RouteBuilder rb)
            throws Exception {
        context = new DefaultCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey(apiKey);
        component.getConfiguration().setBaseUrl((target != null ? target : sim).baseUrl());
        component.getConfiguration().setStoreDirectory(baseDir.resolve("s" + DIRS.incrementAndGet()).toString());
        component.setHealthCheckApiCacheTime(0);
        if (more != null) {
            more.accept(component);
        }
        context.addComponent("openai-batch", component);
        context.addRoutes(rb);
        context.start();
        return context;
    }

    private static RouteBuilder routes(String name, String consumerOptions) {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:" + name + "?model=gpt-4o-mini");
                from("openai-batch:" + name + "?pollInterval=20&maxPollInterval=100" + consumerOptions)
                        .routeId("results").to("log:results?level=DEBUG");
            }
        };
    }

    private HealthCheck.Result result(String id) {
        Optional<HealthCheck.Result> r = HealthCheckHelper.invoke(context, id, Map.of());
        assertThat(r).as("health check %s", id).isPresent();
        return r.get();
    }

    @Test
    void registeredTheCamelWay() throws Exception {
        start(KEY, null, routes("hc-reg", ""));
        HealthCheckRegistry registry = HealthCheckRegistry.get(context);
        assertThat(registry).isNotNull();
        assertThat(registry.getRepository("openai-batch")).isPresent();
        // the consumer's API check is reported by Camel's consumers repository, with the route's state
        assertThat(registry.getCheckIDs()).contains("consumer:results", "openai-batch-batches-hc-reg");
        assertThat(HealthCheckHelper.isResultsUp(HealthCheckHelper.invokeReadiness(context), true)).isTrue();
        // readiness only: neither is a liveness check
        assertThat(registry.getCheck("openai-batch-batches-hc-reg").orElseThrow().isLiveness()).isFalse();
    }

    @Test
    void wrongKeyIsDownWithTheReason() throws Exception {
        start("sk-wrong", null, routes("hc-wrong", ""));
        HealthCheck.Result r = result("consumer:results");
        assertThat(r.getState()).isEqualTo(HealthCheck.State.DOWN);
        assertThat(r.getMessage()).hasValueSatisfying(m -> assertThat(m).contains("refused the key").contains("401"));
        assertThat(r.getDetails()).containsEntry(HealthCheck.HTTP_RESPONSE_CODE, 401);
        assertThat(r.getMessage().get()).doesNotContain("sk-wrong");
        assertThat(HealthCheckHelper.isResultsUp(HealthCheckHelper.invokeReadiness(context), true)).isFalse();
    }

    @Test
    void goodKeyIsUpAndTheProbeIsCached() throws Exception {
        start(KEY, c -> c.setHealthCheckApiCacheTime(60_000), routes("hc-good", ""));
        long before = sim.stats().calls("GET /v1/batches");
        assertThat(result("consumer:results").getState()).isEqualTo(HealthCheck.State.UP);
        assertThat(result("consumer:results").getState()).isEqualTo(HealthCheck.State.UP);
        assertThat(result("consumer:results").getState()).isEqualTo(HealthCheck.State.UP);
        // one API call for three health calls within healthCheckApiCacheTime (the engine lists nothing while idle)
        assertThat(sim.stats().calls("GET /v1/batches") - before).isLessThanOrEqualTo(1);
    }

    @Test
    void disabledByHealthCheckConsumerEnabled() throws Exception {
        start("sk-wrong", c -> c.setHealthCheckConsumerEnabled(false), routes("hc-off", ""));
        HealthCheckRegistry registry = HealthCheckRegistry.get(context);
        assertThat(registry.getCheck("openai-batch-batches-hc-off").orElseThrow().isEnabled()).isFalse();
        // a refused key no longer makes the context not ready
        assertThat(HealthCheckHelper.invoke(context).stream()
                .filter(r -> r.getCheck().getId().startsWith("openai-batch"))
                .filter(r -> r.getState() == HealthCheck.State.DOWN)).isEmpty();
        assertThat(HealthCheckHelper.isResultsUp(HealthCheckHelper.invokeReadiness(context), true)).isTrue();
    }

    @Test
    void stuckBatchIsDownWithItsIdThenUpAgain() throws Exception {
        // a simulator that moves the batch only when the test steps it: it stays without progress until then
        try (BatchSimulator manual = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(ManualBatches.NEVER)
                .linesPerStep(1).build().start()) {
            target = manual;
            start(KEY, c -> c.setHealthCheckMaxBatchIdleTime(300), routes("hc-stuck", ""));
            String id = "openai-batch-batches-hc-stuck";
            assertThat(result(id).getState()).isEqualTo(HealthCheck.State.UP);
            for (int i = 0; i < 12; i++) {
                int k = i;
                context.createProducerTemplate().send("direct:in", e -> {
                    e.getMessage().setBody("Calculate: 1 + " + k + " = ");
                    e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, k == 11);
                });
            }
            String batchId = ManualBatches.awaitBatch(manual, 0);
            ManualBatches.stepToCompleted(manual, batchId, 2);
            await().atMost(Duration.ofSeconds(20)).until(() -> result(id).getState() == HealthCheck.State.DOWN);
            HealthCheck.Result r = result(id);
            assertThat(r.getMessage()).hasValueSatisfying(m -> assertThat(m).contains("without progress")
                    .contains(batchId));
            assertThat(r.getDetails()).containsEntry("batches.stuck", 1).containsEntry("batches.in.flight", 1);
            assertThat((String) r.getDetails().get("batches.stuck.ids")).contains(batchId).contains("/12");
            // the API is fine meanwhile
            assertThat(result("consumer:results").getState()).isEqualTo(HealthCheck.State.UP);

            ManualBatches.stepToEnd(manual, batchId);
            await().atMost(Duration.ofSeconds(20)).until(() -> result(id).getState() == HealthCheck.State.UP);
            context.stop();
            context = null;
        }
    }

    @Test
    void spoolThatNothingDrainsIsDown() throws Exception {
        // a producer only: nothing submits what it spools
        start(KEY, c -> {
            c.setHealthCheckSpoolStallTime(200);
            c.setHealthCheckMaxWaitingRequests(2);
        }, new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:hc-spool?model=gpt-4o-mini");
            }
        });
        String id = "openai-batch-batches-hc-spool";
        context.createProducerTemplate().send("direct:in", e -> e.getMessage().setBody("one"));
        assertThat(result(id).getState()).isEqualTo(HealthCheck.State.UP);
        for (String p : new String[] { "two", "three" }) {
            context.createProducerTemplate().send("direct:in", e -> {
                e.getMessage().setBody(p);
                e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true);
            });
        }
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> result(id).getState() == HealthCheck.State.DOWN
                             && result(id).getMessage().orElse("").contains("nothing was submitted"));
        HealthCheck.Result r = result(id);
        assertThat(r.getMessage().get()).contains("3 requests wait in the spool (more than 2)")
                .contains("no consumer of this name runs");
        assertThat(r.getDetails()).containsEntry("requests.waiting", 3L).containsEntry("engine.running", false);
    }
}
