package dev.camelbatch.openaibatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.apache.camel.test.junit5.TestExecutionConfiguration;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the failure-mode tests share: a simulator per test (configured by the test), a store directory per test,
 * routes added by the test (no route builder at context creation), a recorder of every exchange the consumer emits
 * (by custom id), batch events, a log capture, and the end-of-test checks (every request exactly one outcome, no
 * segment-attempt submitted twice, no remote file left).
 */
abstract class FailureTestSupport extends CamelTestSupport {

    static final String KEY = "sk-test-failure-modes";
    static final String MODEL = "gpt-4o-mini";
    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path baseDir;
    private static final AtomicInteger DIRS = new AtomicInteger();

    protected BatchSimulator sim;
    protected Path storeDir;
    protected final Outcomes outcomes = new Outcomes();
    protected final List<Exchange> events = new CopyOnWriteArrayList<>();
    protected final List<CamelContext> extraContexts = new ArrayList<>();
    protected LogCapture logs;
    /** Whether the consumer route ends in mock:out (which keeps every exchange; off for large soaks). */
    protected boolean mockOut = true;

    @Override
    public void configureTest(TestExecutionConfiguration testConfiguration) {
        super.configureTest(testConfiguration);
        testConfiguration.withUseRouteBuilder(false);
    }

    /** A simulator with millisecond steps; the test adds its knobs. */
    protected BatchSimulator startSim(UnaryOperator<BatchSimulator.Builder> knobs) {
        sim = knobs.apply(BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(10))
                .linesPerStep(1000).seed(5)).build().start();
        storeDir = baseDir.resolve("store-" + DIRS.incrementAndGet());
        logs = LogCapture.attach();
        return sim;
    }

    /** Configures the component of a context: the simulator, the key, this test's store. */
    protected void configureComponent(CamelContext ctx, String apiKey, Consumer<OpenAIBatchConfiguration> more) {
        OpenAIBatchComponent component = ctx.getComponent("openai-batch", OpenAIBatchComponent.class);
        component.getConfiguration().setApiKey(apiKey);
        component.getConfiguration().setBaseUrl(sim.baseUrl());
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        if (more != null) {
            more.accept(component.getConfiguration());
        }
    }

    /** Producer route direct:in -> openai-batch:name?producerOptions; consumer route (id "consumer") -> recorder. */
    protected RouteBuilder routes(String name, String producerOptions, String consumerOptions) {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:" + name + "?model=" + MODEL
                                     + (producerOptions.isEmpty() ? "" : "&" + producerOptions));
                from("openai-batch:" + name + "?pollInterval=20&maxPollInterval=100"
                     + (consumerOptions.isEmpty() ? "" : "&" + consumerOptions))
                        .routeId("consumer")
                        .process(recorder())
                        .to(mockOut ? "mock:out" : "log:" + name + "?level=TRACE");
            }
        };
    }

    /** Adds the test's routes to the test's context and starts it (the context is not started before). */
    protected void addRoutesAndStart(RouteBuilder routes) throws Exception {
        context.addRoutes(routes);
        if (!context.isStarted()) {
            context.start();
        }
    }

    /** Records lines by custom id and batch events separately. */
    protected Processor recorder() {
        return exchange -> {
            if (exchange.getMessage().getHeader(OpenAIBatchConstants.EVENT_TYPE) != null) {
                events.add(exchange.copy());
            } else {
                outcomes.record(exchange);
            }
        };
    }

    /** Spools one prompt under a chosen custom id; the last of a group may flush (seal) at once. */
    protected void send(String customId, String prompt, boolean flush) {
        Exchange ex = template.request("direct:in", e -> {
            e.getMessage().setBody(prompt);
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, customId);
            if (flush) {
                e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true);
            }
        });
        assertThat(ex.getException()).as("spooling %s", customId).isNull();
    }

    protected void send(CamelContext ctx, String customId, String prompt, boolean flush) {
        Exchange ex = ctx.createProducerTemplate().request("direct:in", e -> {
            e.getMessage().setBody(prompt);
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, customId);
            if (flush) {
                e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true);
            }
        });
        assertThat(ex.getException()).as("spooling %s", customId).isNull();
    }

    /** "Calculate: 1 + k = " prompts (answer "1 + k = k+1") with ids prefix-k, flushed at the end. */
    protected List<String> sendCalculations(String prefix, int n) {
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            String id = prefix + k;
            send(id, "Calculate: 1 + " + k + " = ", k == n - 1);
            ids.add(id);
        }
        return ids;
    }

    protected static String answer(String id) {
        int k = Integer.parseInt(id.substring(id.lastIndexOf('-') + 1));
        return "1 + " + k + " = " + (k + 1);
    }

    protected BatchEngine engine() {
        return engine(context);
    }

    protected static BatchEngine engine(CamelContext ctx) {
        return ((OpenAIBatchConsumer) ctx.getRoute("consumer").getConsumer()).getEngine();
    }

    /** A second (or third) CamelContext on the same simulator and store, as after a restart. */
    protected CamelContext newContext(String apiKey, Consumer<OpenAIBatchConfiguration> conf, RouteBuilder routes)
            throws Exception {
        CamelContext ctx = new DefaultCamelContext();
        ctx.addComponent("openai-batch", new OpenAIBatchComponent());
        configureComponent(ctx, apiKey, conf);
        ctx.addRoutes(routes);
        extraContexts.add(ctx);
        ctx.start();
        return ctx;
    }

    /** Waits until the engine has nothing left: every segment DONE. */
    protected void awaitIdle(CamelContext ctx, Duration max) {
        await().atMost(max).pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> assertThat(engine(ctx).store().segments()).isEmpty());
    }

    /** No file left on the simulator (input, output and error files all deleted). */
    protected void assertNoFilesLeft() {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> assertThat(sim.stats().filesStored()).as("files left on the simulator")
                        .isZero());
    }

    /**
     * Every (segment, attempt) pair of the batch metadata was created at most once, and no request was executed by
     * two batches (checked by content: the custom ids each batch ran) but for the resubmission of a request whose
     * execution failed in a retryable way.
     */
    protected void assertNoSegmentAttemptSubmittedTwice() {
        ExecutionAudit.assertNoRequestExecutedTwice(sim);
        ExecutionAudit.assertOneBatchPerSegmentAttempt(sim);
        Map<String, Integer> seen = new HashMap<>();
        for (Map<String, String> md : sim.stats().createdBatchMetadata()) {
            seen.merge(md.get(BatchEngine.META_SEGMENT) + "/" + md.get(BatchEngine.META_ATTEMPT), 1, Integer::sum);
        }
        assertThat(seen).as("batches created per segment/attempt").allSatisfy((k, v) -> assertThat(v).as(k)
                .isEqualTo(1));
        for (Map<String, String> md : sim.stats().createdBatchMetadata()) {
            String segment = md.get(BatchEngine.META_SEGMENT);
            long sameAttempt = sim.stats().createdBatchMetadata().stream()
                    .filter(m -> segment.equals(m.get(BatchEngine.META_SEGMENT))
                                 && md.get(BatchEngine.META_ATTEMPT).equals(m.get(BatchEngine.META_ATTEMPT)))
                    .count();
            assertThat(sameAttempt).isLessThanOrEqualTo(1);
        }
    }

    /** The custom ids of the input file of a simulator batch (the files must not have been deleted). */
    protected Set<String> inputCustomIds(String batchId) {
        String fileId = sim.batch(batchId).get("input_file_id").asText();
        Set<String> ids = new HashSet<>();
        for (String line : sim.fileContent(fileId).split("\n")) {
            if (!line.isBlank()) {
                try {
                    ids.add(MAPPER.readTree(line).get("custom_id").asText());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return ids;
    }

    protected String status(String batchId) {
        return sim.batch(batchId).path("status").asText();
    }

    protected List<Exchange> events(String type) {
        return events.stream().filter(e -> type.equals(e.getMessage().getHeader(OpenAIBatchConstants.EVENT_TYPE)))
                .toList();
    }

    @AfterEach
    void stopEverything() throws Exception {
        // stop the engines before the simulator goes away (an engine stop never waits for a dead server)
        for (CamelContext ctx : extraContexts) {
            ctx.stop();
        }
        if (context != null) {
            context.stop();
        }
        if (sim != null) {
            sim.close();
        }
        if (logs != null) {
            logs.detach();
        }
    }

    /** One emitted line as the route saw it. */
    record Outcome(String customId, boolean error, String errorCode, String errorMessage, Integer statusCode,
            int attempt, String body, String batchId) {
    }

    /** Every exchange of the consumer by custom id. */
    static final class Outcomes {
        final Map<String, List<Outcome>> byId = new ConcurrentHashMap<>();
        final AtomicInteger total = new AtomicInteger();

        void record(Exchange e) {
            var m = e.getMessage();
            Integer attempt = m.getHeader(OpenAIBatchConstants.ATTEMPT, Integer.class);
            Outcome o = new Outcome(m.getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class),
                    Boolean.TRUE.equals(m.getHeader(OpenAIBatchConstants.IS_ERROR, Boolean.class)),
                    m.getHeader(OpenAIBatchConstants.ERROR_CODE, String.class),
                    m.getHeader(OpenAIBatchConstants.ERROR_MESSAGE, String.class),
                    m.getHeader(OpenAIBatchConstants.STATUS_CODE, Integer.class),
                    attempt == null ? 0 : attempt, m.getBody(String.class),
                    m.getHeader(OpenAIBatchConstants.BATCH_ID, String.class));
            byId.computeIfAbsent(String.valueOf(o.customId()), k -> new CopyOnWriteArrayList<>()).add(o);
            total.incrementAndGet();
        }

        int total() {
            return total.get();
        }

        Outcome only(String id) {
            List<Outcome> l = byId.get(id);
            assertThat(l).as("outcomes of %s", id).isNotNull().hasSize(1);
            return l.get(0);
        }

        /** Exactly one outcome per id, and no outcome for any other id. */
        void assertExactlyOnce(Collection<String> ids) {
            assertThat(byId.keySet()).as("custom ids that came out").containsExactlyInAnyOrderElementsOf(ids);
            List<String> twice = byId.entrySet().stream().filter(e -> e.getValue().size() != 1)
                    .map(e -> e.getKey() + " x" + e.getValue().size()).toList();
            assertThat(twice).as("custom ids with more than one outcome").isEmpty();
            assertThat(total()).isEqualTo(ids.size());
        }

        List<Outcome> errors() {
            return byId.values().stream().flatMap(List::stream).filter(Outcome::error).toList();
        }

        List<Outcome> results() {
            return byId.values().stream().flatMap(List::stream).filter(o -> !o.error()).toList();
        }
    }

    /** Captures the log events of the component's loggers (log4j2 is the test backend). */
    static final class LogCapture extends AbstractAppender {
        final List<LogEvent> captured = new CopyOnWriteArrayList<>();
        private final org.apache.logging.log4j.core.Logger logger;

        private LogCapture(org.apache.logging.log4j.core.Logger logger) {
            super("failure-capture-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
            this.logger = logger;
        }

        static LogCapture attach() {
            org.apache.logging.log4j.core.Logger l = (org.apache.logging.log4j.core.Logger) LogManager
                    .getLogger("dev.camelbatch.openaibatch");
            LogCapture c = new LogCapture(l);
            c.start();
            l.addAppender(c);
            return c;
        }

        void detach() {
            logger.removeAppender(this);
            stop();
        }

        @Override
        public void append(LogEvent event) {
            captured.add(event.toImmutable());
        }

        List<String> messages(Level level, String contains) {
            return captured.stream().filter(e -> e.getLevel() == level)
                    .map(e -> e.getMessage().getFormattedMessage()).filter(m -> m.contains(contains)).toList();
        }
    }

    /** Creates a file in the test's store base (for hand-made simulator uploads). */
    protected Path tempFile(String content) throws IOException {
        Path p = Files.createTempFile(baseDir, "hand-made", ".jsonl");
        Files.writeString(p, content);
        return p;
    }

    protected static JsonNode json(String s) throws IOException {
        return MAPPER.readTree(s);
    }

    protected static SegmentInfo segmentOf(BatchEngine engine, String id) {
        return engine.store().segment(id);
    }
}
