package dev.camelbatch.examples.mq;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The example on the in-process simulator: the demo, and a plain JMS client talking to the running application. */
@Timeout(300)
class MessageQueueApplicationTest {

    @TempDir
    Path dir;

    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    @AfterEach
    void tearDown() {
        executor.shutdownNow();
    }

    @Test
    void demoGetsOneReplyPerRequestWithItsCorrelationIdAndExits() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        MessageQueueApplication app = new MessageQueueApplication(
                MessageQueueSettings.demo(dir).forTest(11, Duration.ofMillis(50), true),
                new PrintStream(console, true, StandardCharsets.UTF_8));
        Future<Boolean> run = executor.submit(app::run);
        assertThat(run.get(30, TimeUnit.SECONDS)).isTrue();

        Map<String, String> replies = app.replies();
        Map<String, String> samples = MessageQueueApplication.samples();
        assertThat(replies.keySet()).containsExactlyInAnyOrderElementsOf(samples.keySet());
        samples.forEach((corr, prompt) -> {
            if (corr.startsWith("order-") && Character.isDigit(corr.charAt(6))) {
                // the simulator echoes the prompt: each reply carries the answer to its own request
                assertThat(replies.get(corr)).as(corr).isEqualTo("Echo: " + prompt);
                assertThat(app.statuses().get(corr)).isEqualTo("ok");
            }
        });
        assertThat(app.statuses()).containsEntry("order-fail", "error").containsEntry("order-empty", "error");
        assertThat(replies.get("order-fail")).contains("FAIL_400");
        assertThat(replies.get("order-empty")).contains("body is empty");
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("Done: 22 requests sent", "22 replies");
    }

    @Test
    void aJmsClientGetsRepliesCorrelatedByItsCorrelationIdOrMessageId() throws Exception {
        MessageQueueApplication app = new MessageQueueApplication(
                MessageQueueSettings.demo(dir).forTest(12, Duration.ofMillis(50), false),
                new PrintStream(new ByteArrayOutputStream()));
        Future<Boolean> run = executor.submit(app::run);
        await().atMost(Duration.ofSeconds(15)).until(() -> app.broker() != null);

        Map<String, String> sent = new LinkedHashMap<>(); // reply correlation id expected -> prompt
        Map<String, Message> replies = new HashMap<>();
        ActiveMQConnectionFactory cf = new ActiveMQConnectionFactory("vm://12");
        try (Connection c = cf.createConnection()) {
            c.start();
            Session session = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(session.createQueue("requests"));
            for (int i = 0; i < 10; i++) {
                TextMessage m = session.createTextMessage("Question " + i + ": is it in stock?");
                if (i % 3 != 0) {
                    m.setJMSCorrelationID("client-" + i);
                }
                producer.send(m);
                // without a correlation id, the reply is correlated by the request's message id
                sent.put(i % 3 != 0 ? "client-" + i : m.getJMSMessageID(), m.getText());
            }
            MessageConsumer consumer = session.createConsumer(session.createQueue("results"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
            while (replies.size() < sent.size() && System.nanoTime() < deadline) {
                Message reply = consumer.receive(500);
                if (reply != null) {
                    replies.put(reply.getJMSCorrelationID(), reply);
                }
            }
        } finally {
            cf.close();
        }
        app.stop();
        assertThat(run.get(20, TimeUnit.SECONDS)).isTrue();

        assertThat(replies.keySet()).containsExactlyInAnyOrderElementsOf(sent.keySet());
        for (Map.Entry<String, String> e : sent.entrySet()) {
            Message reply = replies.get(e.getKey());
            assertThat(((TextMessage) reply).getText()).isEqualTo("Echo: " + e.getValue());
            assertThat(reply.getStringProperty("openaiStatus")).isEqualTo("ok");
            assertThat(reply.getLongProperty("openaiPromptTokens")).isPositive();
            assertThat(reply.getLongProperty("openaiCompletionTokens")).isPositive();
        }
    }
}
