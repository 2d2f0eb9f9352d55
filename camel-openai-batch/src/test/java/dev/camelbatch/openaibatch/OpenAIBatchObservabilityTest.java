package dev.camelbatch.openaibatch;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.camelbatch.openaibatch.monitor.OpenAIBatchDevConsole;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchMicrometer;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.console.DevConsole;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.util.json.JsonArray;
import org.apache.camel.util.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dev console (text and JSON), the Micrometer meters and the JMX attributes of a name, after requests went
 * through real batches on the simulator (one of them a failed request) and while a batch is in flight. The simulator
 * moves batches only when the test steps them, so the batch in flight is exactly where the test left it.
 */
@Timeout(300)
class OpenAIBatchObservabilityTest {

    static final String KEY = "sk-test-observability";
    static BatchSimulator sim;

    @TempDir
    static Path baseDir;
    static final AtomicInteger DIRS = new AtomicInteger();

    CamelContext context;
    MeterRegistry meters;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(ManualBatches.NEVER).linesPerStep(1)
                .seed(11).build().start();
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

    /** A context (JMX on) with a MeterRegistry in its registry, producer direct:in and a consumer to mock:out. */
    private void start(String name, boolean jmx) throws Exception {
        sim.reset();
        context = new DefaultCamelContext();
        if (!jmx) {
            context.disableJMX();
        }
        meters = new SimpleMeterRegistry();
        context.getRegistry().bind("meters", meters);
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey(KEY);
        component.getConfiguration().setBaseUrl(sim.baseUrl());
        component.getConfiguration().setStoreDirectory(baseDir.resolve("s" + DIRS.incrementAndGet()).toString());
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:" + name + "?model=gpt-4o-mini&maxRequestsPerBatch=5");
                from("openai-batch:" + name + "?pollInterval=20&maxPollInterval=100").routeId("results")
                        .to("mock:out");
            }
        });
        context.start();
    }

    /**
     * Sends n prompts (the one at failAt asks the mock model to fail with a 400), runs the two batches they make to
     * their end and waits for n lines.
     */
    private void roundTrip(int n, int failAt) throws Exception {
        MockEndpoint out = context.getEndpoint("mock:out", MockEndpoint.class);
        out.expectedMessageCount(n);
        int before = sim.batchIds().size();
        for (int i = 0; i < n; i++) {
            int k = i;
            context.createProducerTemplate().send("direct:in", e -> {
                e.getMessage().setBody(k == failAt ? "FAIL_400 please" : "Calculate: 1 + " + k + " = ");
                e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, k == n - 1);
            });
        }
        for (int b = 0; b < 2; b++) {
            ManualBatches.stepToEnd(sim, ManualBatches.awaitBatch(sim, before + b));
        }
        out.assertIsSatisfied(20_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> context.getEndpoint("openai-batch:" + name(),
                OpenAIBatchEndpoint.class).getBatchesDone() == 2);
    }

    private String name;

    private String name() {
        return name;
    }

    @Test
    void devConsoleTextAndJson() throws Exception {
        name = "obs-console";
        start(name, false);
        DevConsole console = PluginHelper.getDevConsoleResolver(context).resolveDevConsole("openai-batch");
        assertThat(console).as("resolved by its id through the generated service file").isNotNull()
                .isInstanceOf(OpenAIBatchDevConsole.class);
        roundTrip(8, 3);

        // a batch that stays in flight (two of its five requests done), then one open segment
        for (int i = 0; i < 5; i++) {
            int k = i;
            context.createProducerTemplate().send("direct:in", e -> {
                e.getMessage().setBody("Calculate: 2 + " + k + " = ");
                e.getMessage().setHeader(OpenAIBatchConstants.MODEL, "gpt-4o");
                e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, k == 4);
            });
        }
        String inFlight = ManualBatches.awaitBatch(sim, 2);
        ManualBatches.stepToCompleted(sim, inFlight, 2);
        context.createProducerTemplate().sendBody("direct:in", "Calculate: 1 + 100 = ");
        // the engine has seen the progress
        await().atMost(Duration.ofSeconds(20)).until(() -> jsonQueue(console).get("batches") instanceof JsonArray a
                                                           && !a.isEmpty()
                                                           && inFlight.equals(((JsonObject) a.get(0)).get("batchId"))
                                                           && ((JsonObject) a.get(0)).getInteger("completed") == 2);

        JsonObject q = jsonQueue(console);
        assertThat(q.get("name")).isEqualTo(name);
        assertThat(q.get("engineRunning")).isEqualTo(true);
        assertThat((JsonArray) q.get("consumerRoutes")).containsExactly("results");
        assertThat(((JsonArray) q.get("endpoints")).toString()).contains("openai-batch://" + name);
        JsonObject spool = (JsonObject) q.get("spool");
        assertThat(spool.getInteger("openSegments")).isEqualTo(1);
        assertThat(spool.getLong("openRequests")).isEqualTo(1L);
        JsonObject batch = (JsonObject) ((JsonArray) q.get("batches")).get(0);
        assertThat(batch.getString("batchId")).isEqualTo(inFlight);
        assertThat(batch.getString("state")).isEqualTo("SUBMITTED");
        assertThat(batch.getInteger("total")).isEqualTo(5);
        assertThat(batch.getString("batchStatus")).isEqualTo("in_progress");
        assertThat(batch.getInteger("completed")).isEqualTo(2);
        assertThat(batch.getLong("batchAgeMillis")).isNotNegative();
        assertThat(batch.getInteger("progressPercent")).isEqualTo(40);
        JsonObject counters = (JsonObject) q.get("counters");
        assertThat(counters.getLong("requestsSpooled")).isEqualTo(14L);
        assertThat(counters.getLong("batchesDone")).isEqualTo(2L);
        assertThat(counters.getLong("resultLines")).isEqualTo(7L);
        assertThat(counters.getLong("errorLines")).isEqualTo(1L);
        assertThat((JsonObject) counters.get("linesByCode")).containsEntry("result|200", 7L)
                .containsEntry("error|invalid_request_error", 1L);
        JsonObject usage = (JsonObject) q.get("usage");
        JsonObject since = (JsonObject) usage.get("sinceStart");
        JsonObject history = (JsonObject) usage.get("history");
        assertThat(since.getLong("inputTokens")).isPositive();
        assertThat(since.getLong("outputTokens")).isPositive();
        assertThat(history.getLong("batches")).isEqualTo(2L);
        assertThat(history.getLong("inputTokens")).isEqualTo(since.getLong("inputTokens"));
        JsonObject cost = (JsonObject) usage.get("cost");
        assertThat(cost.getLong("batches")).isEqualTo(2L);
        assertThat(new java.math.BigDecimal(cost.getString("estimatedCost"))).isPositive();
        assertThat(cost.getString("pricesDate")).isNotBlank();

        String text = (String) console.call(DevConsole.MediaType.TEXT, Map.of());
        assertThat(text).contains("openai-batch:" + name).contains("Consumer: route results (engine running)")
                .contains("Spool: 1 open segment(s) with 1 request(s)").contains(inFlight)
                .contains("in_progress").contains("2/5 done").contains("14 requests spooled").contains("7 result lines, 1 error lines")
                .contains("Usage since start: " + since.getLong("inputTokens") + " input")
                .contains("Estimated cost since start: $" + cost.getString("estimatedCost") + " for 2 finished batch(es)");
    }

    @SuppressWarnings("unchecked")
    private static JsonObject jsonQueue(DevConsole console) {
        Map<String, Object> json = (Map<String, Object>) console.call(DevConsole.MediaType.JSON, Map.of());
        return (JsonObject) ((JsonArray) json.get("queues")).get(0);
    }

    @Test
    void micrometerMetersOfTheName() throws Exception {
        name = "obs-meters";
        start(name, false);
        roundTrip(8, 3);
        String p = OpenAIBatchMicrometer.PREFIX;
        assertThat(count(p + "requests.spooled")).isEqualTo(8);
        assertThat(count(p + "segments.sealed")).isEqualTo(2);
        assertThat(count(p + "batches.created")).isEqualTo(2);
        assertThat(count(p + "batches.done")).isEqualTo(2);
        assertThat(meters.get(p + "lines.emitted").tags("kind", "result", "code", "200").functionCounter().count())
                .isEqualTo(7);
        assertThat(meters.get(p + "lines.emitted").tags("kind", "error").functionCounter().count()).isEqualTo(1);
        assertThat(meters.get(p + "batch.events").tags("type", "COMPLETED").functionCounter().count()).isEqualTo(2);
        assertThat(meters.get(p + "tokens").tags("type", "input").functionCounter().count()).isPositive();
        assertThat(meters.get(p + "tokens").tags("type", "output").functionCounter().count()).isPositive();
        assertThat(count(p + "poll.calls")).isPositive();
        assertThat(meters.get(p + "cost.estimated").tag("name", name).gauge().value()).isPositive();
        assertThat(count(p + "requests.resubmitted")).isZero();
        Gauge submitted = meters.get(p + "segments").tags("state", "SUBMITTED").gauge();
        assertThat(submitted.value()).isZero();
        assertThat(meters.get(p + "requests.waiting").gauge().value()).isZero();
        assertThat(meters.get(p + "requests.spooled").functionCounter().getId().getTag("name")).isEqualTo(name);

        // the meters go away with the name's runtime
        context.stop();
        context = null;
        assertThat(meters.find(p + "requests.spooled").meters()).isEmpty();
    }

    private double count(String meter) {
        FunctionCounter c = meters.get(meter).tag("name", name).functionCounter();
        return c.count();
    }

    @Test
    void jmxAttributesOfTheEndpoint() throws Exception {
        name = "obs-jmx";
        start(name, true);
        roundTrip(8, 3);
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = server.queryNames(new ObjectName("org.apache.camel:context="
                                                                 + context.getManagementName()
                                                                 + ",type=endpoints,*"), null);
        ObjectName on = names.stream().filter(n -> n.getKeyProperty("name").contains("openai-batch://" + name))
                .filter(n -> !n.getKeyProperty("name").contains("?")).findFirst()
                .orElseGet(() -> names.stream().filter(n -> n.getKeyProperty("name").contains("openai-batch"))
                        .findFirst().orElseThrow());
        assertThat(server.getAttribute(on, "QueueName")).isEqualTo(name);
        assertThat(server.getAttribute(on, "EngineRunning")).isEqualTo(true);
        assertThat(server.getAttribute(on, "RequestsSpooled")).isEqualTo(8L);
        assertThat(server.getAttribute(on, "SegmentsSealed")).isEqualTo(2L);
        assertThat(server.getAttribute(on, "BatchesCreated")).isEqualTo(2L);
        assertThat(server.getAttribute(on, "BatchesDone")).isEqualTo(2L);
        assertThat(server.getAttribute(on, "ResultLinesEmitted")).isEqualTo(7L);
        assertThat(server.getAttribute(on, "ErrorLinesEmitted")).isEqualTo(1L);
        assertThat((String) server.getAttribute(on, "LinesByCode")).contains("result|200=7");
        assertThat((Long) server.getAttribute(on, "PollCalls")).isPositive();
        assertThat((Long) server.getAttribute(on, "InputTokens")).isPositive();
        assertThat((Double) server.getAttribute(on, "EstimatedCost")).isPositive();
        assertThat(server.getAttribute(on, "RequestsWaiting")).isEqualTo(0L);
        assertThat(server.getAttribute(on, "BatchesInFlight")).isEqualTo(0L);
        assertThat(server.getAttribute(on, "AuthProblem")).isEqualTo("");
        // Camel's own endpoint attributes are still there
        assertThat((String) server.getAttribute(on, "EndpointUri")).contains("openai-batch");
    }
}
