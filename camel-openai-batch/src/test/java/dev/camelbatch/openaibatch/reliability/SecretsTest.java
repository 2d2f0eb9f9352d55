package dev.camelbatch.openaibatch.reliability;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The secrets part of the reliability suite: with a recognisable API key, a whole run (spool, submit, poll, emit, a
 * refused key, bad input) leaves the key in no log line (all loggers at DEBUG, HttpClient's included), no file of the
 * store, no exception message and no endpoint URI as printed.
 */
@Timeout(300)
class SecretsTest {

    private static final String KEY = "sk-test-CANARY-7f3a9c1e5b2d4a6c8e0f1a3b5c7d9e1f";
    private static final String WRONG_KEY = "sk-test-WRONGCANARY-0a1b2c3d4e5f6a7b8c9d";

    @TempDir
    Path storeDir;

    @Test
    void theKeyAppearsNowhere() throws Exception {
        List<String> logs = new ArrayList<>();
        AbstractAppender capture = new AbstractAppender("secrets-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                StringBuilder sb = new StringBuilder(event.getLoggerName()).append(' ')
                        .append(event.getMessage().getFormattedMessage());
                if (event.getThrown() != null) {
                    StringWriter sw = new StringWriter();
                    event.getThrown().printStackTrace(new PrintWriter(sw));
                    sb.append('\n').append(sw);
                }
                synchronized (logs) {
                    logs.add(sb.toString());
                }
            }
        };
        capture.start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        config.addAppender(capture);
        config.getRootLogger().addAppender(capture, Level.ALL, null);
        Level rootBefore = config.getRootLogger().getLevel();
        Configurator.setRootLevel(Level.DEBUG);
        Configurator.setLevel("org.apache.hc", Level.DEBUG);
        Configurator.setLevel("org.apache.camel", Level.DEBUG);
        List<Throwable> exceptions = new ArrayList<>();
        List<String> uris = new ArrayList<>();
        try (BatchSimulator sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(10))
                .build().start()) {
            CamelContext context = new DefaultCamelContext();
            OpenAIBatchComponent component = new OpenAIBatchComponent();
            component.getConfiguration().setBaseUrl(sim.baseUrl());
            component.getConfiguration().setStoreDirectory(storeDir.toString());
            context.addComponent("openai-batch", component);
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:in").to("openai-batch:secret?apiKey=" + KEY + "&model=gpt-4o-mini&batchTimeout=50");
                    from("openai-batch:secret?apiKey=RAW(" + KEY + ")&pollInterval=20").to("mock:out");
                    from("direct:wrong").to("openai-batch:wrong?apiKey=" + WRONG_KEY
                                            + "&model=gpt-4o-mini&batchTimeout=50");
                    from("openai-batch:wrong?apiKey=" + WRONG_KEY + "&pollInterval=20").to("mock:never");
                }
            });
            context.start();
            MockEndpoint out = context.getEndpoint("mock:out", MockEndpoint.class);
            out.expectedMessageCount(5);
            for (int i = 0; i < 5; i++) {
                context.createProducerTemplate().sendBody("direct:in", "Calculate: 1 + " + i + " = ");
            }
            Exchange bad = context.createProducerTemplate().request("direct:in", e -> e.getMessage().setBody(42));
            exceptions.add(bad.getException());
            context.createProducerTemplate().sendBody("direct:wrong", "refused");
            out.assertIsSatisfied(20_000);
            // the refused key has been tried and reported
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                synchronized (logs) {
                    return logs.stream().anyMatch(l -> l.contains("refused the key"));
                }
            });
            for (Endpoint e : context.getEndpoints()) {
                uris.add(e.toString());
                uris.add(e.getEndpointBaseUri());
            }
            for (Route r : context.getRoutes()) {
                uris.add(r.toString());
                uris.add(r.getEndpoint().toString());
            }
            context.stop();
        } finally {
            config.getRootLogger().removeAppender("secrets-capture");
            Configurator.setRootLevel(rootBefore);
            Configurator.setLevel("org.apache.hc", Level.INFO);
            Configurator.setLevel("org.apache.camel", Level.INFO);
            capture.stop();
        }

        assertThat(logs).as("log lines captured").hasSizeGreaterThan(50);
        for (String secret : List.of(KEY, WRONG_KEY, KEY.substring(8), WRONG_KEY.substring(8))) {
            synchronized (logs) {
                assertThat(logs).as("log lines").noneMatch(l -> l.contains(secret));
            }
            assertThat(exceptions).allSatisfy(t -> {
                assertThat(t).isNotNull();
                assertThat(String.valueOf(t.getMessage())).doesNotContain(secret);
            });
            assertThat(uris).isNotEmpty().noneMatch(u -> u.contains(secret));
            try (Stream<Path> files = Files.walk(storeDir)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    assertThat(content).as("store file %s", f).doesNotContain(secret);
                }
            }
        }
    }
}
