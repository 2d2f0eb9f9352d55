package dev.camelbatch.openaibatch;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
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
 * The producer with a running consumer on the simulator: the time trigger (sealing by batchTimeout happens in the
 * engine), and carried headers that are stored beside the requests, never uploaded, and restored with their types.
 */
@Timeout(300)
class ProducerWithConsumerTest extends CamelTestSupport {

    static final String KEY = "sk-test-producer";
    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(20)).linesPerStep(10).seed(3)
                .build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        TestComponents.onSimulator(context, sim, KEY, storeDir);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("openai-batch:timeout?pollInterval=30&maxPollInterval=200").routeId("timeout-consumer")
                        .to("mock:timeout");
                from("openai-batch:carry?pollInterval=30&maxPollInterval=200").routeId("carry-consumer")
                        .autoStartup(false)
                        .to("mock:carry");
            }
        };
    }

    @Test
    void batchTimeoutSealsTheOpenSegmentByAge() throws Exception {
        String uri = "openai-batch:timeout?model=gpt-4o-mini&batchTimeout=1500";
        MockEndpoint out = getMockEndpoint("mock:timeout");
        out.expectedMessageCount(3);
        for (int i = 0; i < 3; i++) {
            int k = i;
            Exchange ex = template.request(uri, e -> e.getMessage().setBody("Calculate: 2 + " + k + " = "));
            assertThat(ex.getException()).isNull();
        }
        BatchStore store = Spool.store(context, uri);
        // no count, size or flush trigger: a segment waits for its age (the recorded times say so, however long the
        // sends took); the open one carries its maximum age
        assertThat(store.segments()).allSatisfy(s -> {
            if (s.getStatus() == SegmentStatus.OPEN) {
                assertThat(s.getMaxAgeMillis()).isEqualTo(1500L);
            } else {
                assertThat(s.getSealReason()).isEqualTo("batchTimeout");
                assertThat(s.getSealedAt() - s.getCreatedAt()).isGreaterThanOrEqualTo(1500);
            }
        });
        out.assertIsSatisfied(20_000);
        // on a slow machine the three requests may straddle the timeout and make two batches; each one is sealed
        // by age, never earlier
        await().atMost(Duration.ofSeconds(10)).until(() -> store.segments().isEmpty()
                                                           && store.history(10).stream()
                                                                   .mapToInt(SegmentInfo::getRequestCount).sum() == 3);
        for (SegmentInfo done : store.history(10)) {
            assertThat(done.getSealReason()).isEqualTo("batchTimeout");
            assertThat(done.getSealedAt() - done.getCreatedAt()).isGreaterThanOrEqualTo(1500);
        }
        assertThat(out.getReceivedExchanges()).extracting(e -> e.getMessage().getBody(String.class))
                .containsExactlyInAnyOrder("Echo: Calculate: 2 + 0 = ", "Echo: Calculate: 2 + 1 = ",
                        "Echo: Calculate: 2 + 2 = ");
    }

    @Test
    void carriedHeadersAreStoredBesideTheRequestsAndRestoredWithTheirTypes() throws Exception {
        String uri = "openai-batch:carry?model=gpt-4o-mini&carryHeaders=ticketId,CamelFileName,Review*";
        List<Map<String, Object>> sent = List.of(
                headers("T-4711-secret", "reviews-1.csv", 42L, 7, 0.125, true, new BigDecimal("12.3400")),
                headers("T-2", "reviews-2.csv", Long.MAX_VALUE, Integer.MIN_VALUE, -0.0, false,
                        new BigDecimal("-1E+3")),
                headers("line1\nline2 \u00fc \"quoted\" \u2603", "r\u00e9sum\u00e9.csv", 0L, 0, 1.0E300, true,
                        new BigDecimal("0.1")));
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < sent.size(); i++) {
            Map<String, Object> h = sent.get(i);
            int k = i;
            Exchange ex = template.request(uri, e -> {
                e.getMessage().setBody("Calculate: 3 + " + k + " = ");
                e.getMessage().getHeaders().putAll(h);
                e.getMessage().setHeader("ReviewShort", (short) 3);
                e.getMessage().setHeader("ReviewFloat", 1.5f);
                e.getMessage().setHeader("ReviewChar", 'x');
                e.getMessage().setHeader("ReviewBig", new BigInteger("123456789012345678901234567890"));
                e.getMessage().setHeader("notCarried", "NOT-CARRIED-VALUE");
            });
            assertThat(ex.getException()).isNull();
            ids.put(ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class), i);
        }
        // a request without any carried header, and the flush
        Exchange plain = template.request(uri, e -> {
            e.getMessage().setBody("Calculate: 3 + 9 = ");
            e.getMessage().setHeader("notCarried", "x");
            e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true);
        });
        assertThat(plain.getException()).isNull();
        String plainId = plain.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);

        // in the spool: the uploaded file has no trace of the headers, the sidecar has them
        BatchStore store = Spool.store(context, uri);
        assertThat(store.segments()).singleElement().satisfies(s -> {
            assertThat(s.getStatus()).isEqualTo(SegmentStatus.SEALED);
            assertThat(s.getRequestCount()).isEqualTo(4);
        });
        Path data = store.uploadFile(store.segments().get(0).getId());
        String uploaded = Files.readString(data);
        for (String forbidden : List.of("ticketId", "T-4711-secret", "CamelFileName", "reviews-1.csv", "Review",
                "NOT-CARRIED-VALUE", "notCarried", "12.3400")) {
            assertThat(uploaded).doesNotContain(forbidden);
        }
        for (String line : Spool.rawLines(data)) {
            JsonNode n = Spool.parse(line);
            assertThat(n.properties()).extracting(Map.Entry::getKey)
                    .containsExactly("custom_id", "method", "url", "body");
        }
        List<JsonNode> carry = Spool.carryLines(storeDir, "carry");
        assertThat(carry).extracting(n -> n.path("c").asText()).containsExactlyInAnyOrderElementsOf(ids.keySet())
                .doesNotContain(plainId);
        for (JsonNode c : carry) {
            assertThat(c.path("h").properties()).extracting(Map.Entry::getKey).containsExactlyInAnyOrder("ticketId",
                    "CamelFileName", "ReviewScore", "ReviewCount", "ReviewRatio", "ReviewOk", "ReviewAmount",
                    "ReviewShort", "ReviewFloat", "ReviewChar", "ReviewBig");
        }

        // the results: headers restored exactly, with their Java types
        MockEndpoint out = getMockEndpoint("mock:carry");
        out.expectedMessageCount(4);
        context.getRouteController().startRoute("carry-consumer");
        out.assertIsSatisfied(20_000);
        for (Exchange ex : out.getReceivedExchanges()) {
            String id = ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
            assertThat(ex.getMessage().getHeader("notCarried")).isNull();
            if (id.equals(plainId)) {
                assertThat(ex.getMessage().getHeader("ticketId")).isNull();
                assertThat(ex.getMessage().getHeader("ReviewScore")).isNull();
                assertThat(ex.getMessage().getBody(String.class)).isEqualTo("Echo: Calculate: 3 + 9 = ");
                continue;
            }
            Integer k = ids.get(id);
            assertThat(k).as("result for %s", id).isNotNull();
            assertThat(ex.getMessage().getBody(String.class)).isEqualTo("Echo: Calculate: 3 + " + k + " = ");
            for (Map.Entry<String, Object> h : sent.get(k).entrySet()) {
                Object v = ex.getMessage().getHeader(h.getKey());
                assertThat(v).as("header %s", h.getKey()).isNotNull();
                assertThat(v.getClass()).as("type of %s", h.getKey()).isEqualTo(h.getValue().getClass());
                assertThat(v).as("header %s", h.getKey()).isEqualTo(h.getValue());
            }
            assertThat(ex.getMessage().getHeader("ReviewShort")).isEqualTo((short) 3);
            assertThat(ex.getMessage().getHeader("ReviewFloat")).isEqualTo(1.5f);
            assertThat(ex.getMessage().getHeader("ReviewChar")).isEqualTo('x');
            assertThat(ex.getMessage().getHeader("ReviewBig"))
                    .isEqualTo(new BigInteger("123456789012345678901234567890"));
        }
    }

    private static Map<String, Object> headers(String ticket, String file, long score, int count, double ratio,
            boolean ok, BigDecimal amount) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("ticketId", ticket);
        h.put("CamelFileName", file);
        h.put("ReviewScore", score);
        h.put("ReviewCount", count);
        h.put("ReviewRatio", ratio);
        h.put("ReviewOk", ok);
        h.put("ReviewAmount", amount);
        return h;
    }
}
