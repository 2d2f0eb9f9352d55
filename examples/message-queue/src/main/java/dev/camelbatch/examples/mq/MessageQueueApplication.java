package dev.camelbatch.examples.mq;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.activemq.artemis.api.core.client.ActiveMQClient;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.jms.JmsComponent;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.springframework.jms.connection.CachingConnectionFactory;

/**
 * The message-queue example as a Camel Main application: an embedded ActiveMQ Artemis broker, requests from the
 * queue {@code requests}, replies on {@code results} with the correlation id of their request. Without
 * {@code OPENAI_API_KEY} it runs on the in-process simulator, sends sample requests itself, prints the replies and
 * exits; with the key it uses the real API and keeps running, with a TCP acceptor for clients in other processes.
 */
public final class MessageQueueApplication {

    private static final String SIMULATOR_KEY = "sk-sim";
    static final Duration DEMO_TIMEOUT = Duration.ofMinutes(2);

    private final MessageQueueSettings settings;
    private final PrintStream out;
    /** Demo: correlation id of each sample request to its reply (body). */
    private final Map<String, String> replies = new ConcurrentHashMap<>();
    private final Map<String, String> statuses = new ConcurrentHashMap<>();
    private volatile Main main;
    private volatile EmbeddedBroker broker;

    public MessageQueueApplication(MessageQueueSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        new MessageQueueApplication(MessageQueueSettings.fromEnvironment(System.getenv(), System.getProperties()),
                System.out).run();
    }

    /** The sample requests of the demo: correlation id to prompt (one with an empty body, refused at once). */
    public static Map<String, String> samples() {
        String[] questions = {"Where is my order?", "Can I change the delivery address?", "Do you ship abroad?",
            "How do I return a gift?", "My invoice shows the wrong VAT number.", "Is the blue kettle back in stock?",
            "Can I pay by bank transfer?", "The app logs me out all the time.", "Do you have a student discount?",
            "How long does the warranty last?"};
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            m.put(String.format("order-%02d", i + 1), questions[i % questions.length] + " (order " + (1000 + i) + ")");
        }
        // the simulator fails a request whose text holds FAIL_400: its reply comes back with openaiStatus=error
        m.put("order-fail", "FAIL_400 please");
        m.put("order-empty", null); // no body at all: refused at once, with an error reply
        return m;
    }

    public Map<String, String> replies() {
        return Map.copyOf(replies);
    }

    /** Demo: correlation id to the reply's openaiStatus. */
    public Map<String, String> statuses() {
        return Map.copyOf(statuses);
    }

    public EmbeddedBroker broker() {
        return broker;
    }

    public void stop() {
        Main m = main;
        if (m != null) {
            m.completed();
        }
    }

    /** Runs until stopped (or, in the demo, until every sample has its reply); returns true if all did. */
    public boolean run() throws Exception {
        BatchSimulator sim = null;
        Path tempStore = null;
        try (EmbeddedBroker b = EmbeddedBroker.start(settings)) {
            this.broker = b;
            OpenAIBatchComponent component = new OpenAIBatchComponent();
            OpenAIBatchConfiguration conf = component.getConfiguration();
            if (settings.demo()) {
                sim = BatchSimulator.builder().apiKey(SIMULATOR_KEY).port(0).stepDelay(settings.simulatorStepDelay())
                        .build().start();
                conf.setApiKey(SIMULATOR_KEY);
                conf.setBaseUrl(sim.baseUrl());
                tempStore = Files.createTempDirectory("message-queue-store-");
                conf.setStoreDirectory(tempStore.toString());
                out.println("OPENAI_API_KEY is not set: running on the in-process simulator at " + sim.baseUrl());
            } else {
                conf.setApiKey(settings.apiKey());
                conf.setBaseUrl(settings.baseUrl());
                conf.setStoreDirectory(settings.dir().resolve("store").toString());
                out.println("Using the OpenAI Batch API at "
                            + (settings.baseUrl() != null ? settings.baseUrl() : "https://api.openai.com/v1"));
            }
            conf.setBatchTimeout(settings.batchTimeout().toMillis());
            conf.setPollInterval(settings.pollInterval().toMillis());
            conf.setMaxPollInterval(Math.max(settings.pollInterval().toMillis(), 1000));
            out.println("Broker " + b.inVmUrl() + (settings.tcpAcceptor() != null ? " and " + settings.tcpAcceptor()
                    : "") + ": requests on queue '" + MessageQueueSettings.REQUESTS + "', replies on '"
                        + MessageQueueSettings.RESULTS + "'");

            ActiveMQConnectionFactory artemis = new ActiveMQConnectionFactory(b.inVmUrl());
            CachingConnectionFactory cf = new CachingConnectionFactory(artemis);
            cf.setSessionCacheSize(10);
            Main m = new Main();
            m.bind("openai-batch", component);
            m.bind("jms", JmsComponent.jmsComponent(cf));
            m.configure().addRoutesBuilder(new MessageQueueRoutes(settings));
            AtomicBoolean done = new AtomicBoolean();
            if (settings.sendSamples()) {
                Map<String, String> samples = samples();
                m.configure().addRoutesBuilder(new RouteBuilder() {
                    @Override
                    public void configure() {
                        // the demo's own client: print each reply and stop once every sample has one
                        from("jms:queue:" + MessageQueueSettings.RESULTS).routeId("demo-replies")
                                .process(e -> {
                                    String corr = e.getMessage().getHeader("JMSCorrelationID", String.class);
                                    String body = e.getMessage().getBody(String.class);
                                    replies.put(corr, body == null ? "" : body);
                                    statuses.put(corr, e.getMessage().getHeader("openaiStatus", "", String.class));
                                    out.printf("reply %-12s %-5s %s%n", corr,
                                            e.getMessage().getHeader("openaiStatus"), body);
                                    if (replies.keySet().containsAll(samples.keySet())
                                        && done.compareAndSet(false, true)) {
                                        m.completed();
                                    }
                                });
                    }
                });
                m.addMainListener(new MainListenerSupport() {
                    @Override
                    public void afterStart(BaseMainSupport main) {
                        sendSamples(main.getCamelContext(), samples);
                    }
                });
                Thread watchdog = new Thread(() -> {
                    try {
                        Thread.sleep(DEMO_TIMEOUT.toMillis());
                        if (done.compareAndSet(false, true)) {
                            MessageQueueRoutes.LOG.error("Not done after {}; stopping", DEMO_TIMEOUT);
                            m.completed();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "message-queue-watchdog");
                watchdog.setDaemon(true);
                watchdog.start();
            }
            this.main = m;
            try {
                m.run();
            } finally {
                this.main = null;
                cf.destroy();
                artemis.close();
                // the Artemis client's global thread pools are not daemon threads: end them, or the JVM (and
                // `mvn exec:java`) waits a minute for them to idle out
                ActiveMQClient.clearThreadPools();
            }
            boolean all = !settings.sendSamples() || replies.keySet().containsAll(samples().keySet());
            if (settings.sendSamples()) {
                out.printf("%nDone: %d requests sent to '%s', %d replies on '%s', each with its request's correlation"
                           + " id%s%n", samples().size(), MessageQueueSettings.REQUESTS, replies.size(),
                        MessageQueueSettings.RESULTS,
                        settings.demo() ? " (the simulator answers 'Echo: <prompt>')" : "");
            }
            return all;
        } finally {
            this.broker = null;
            if (sim != null) {
                sim.close();
            }
            if (tempStore != null) {
                deleteRecursively(tempStore);
            }
        }
    }

    private void sendSamples(CamelContext context, Map<String, String> samples) {
        Thread t = new Thread(() -> {
            try (ProducerTemplate template = context.createProducerTemplate()) {
                samples.forEach((corr, prompt) -> template.send("jms:queue:" + MessageQueueSettings.REQUESTS, e -> {
                    e.getMessage().setBody(prompt);
                    e.getMessage().setHeader("JMSCorrelationID", corr);
                }));
                out.println("Sent " + samples.size() + " requests to queue '" + MessageQueueSettings.REQUESTS
                            + "' (order-01 ... order-20, order-fail that the simulator fails, and order-empty without a body)");
            } catch (Exception e) {
                MessageQueueRoutes.LOG.error("Sending the samples failed", e);
            }
        }, "message-queue-samples");
        t.setDaemon(true);
        t.start();
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
