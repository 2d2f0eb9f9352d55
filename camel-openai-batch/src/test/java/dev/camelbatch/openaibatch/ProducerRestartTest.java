package dev.camelbatch.openaibatch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
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
 * A second CamelContext on the same store directory (the first one stopped) finds every spooled request: the open
 * segment continues to take requests, custom ids stay reserved, and the sealed segments are submitted once a consumer
 * runs.
 */
@Timeout(300)
class ProducerRestartTest extends CamelTestSupport {

    static final String KEY = "sk-test-restart";
    static final String PRODUCER = "openai-batch:restart?model=gpt-4o-mini&maxRequestsPerBatch=5"
                                   + "&carryHeaders=seq&batchTimeout=0";
    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(20)).linesPerStep(10).seed(5)
                .build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @Override
    public boolean isUseRouteBuilder() {
        return false;
    }

    private static RouteBuilder producerRoute() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to(PRODUCER);
            }
        };
    }

    private static Exchange send(CamelContext ctx, int i, boolean flush) {
        ProducerTemplate t = ctx.createProducerTemplate();
        try {
            return t.request("direct:in", e -> {
                e.getMessage().setBody("Calculate: 10 + " + i + " = ");
                e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "r-" + i);
                e.getMessage().setHeader("seq", i);
                if (flush) {
                    e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true);
                }
            });
        } finally {
            try {
                t.stop();
            } catch (Exception ignored) {
                // nothing to do
            }
        }
    }

    @Test
    void aSecondContextFindsEverySpooledRequest() throws Exception {
        // life 1: 12 requests, 5 per batch -> sealed 5, sealed 5, open 2
        List<SegmentInfo> before;
        CamelContext first = Spool.startContext(storeDir, KEY, sim.baseUrl(), producerRoute());
        try {
            for (int i = 0; i < 12; i++) {
                assertThat(send(first, i, false).getException()).isNull();
            }
            before = Spool.store(first, PRODUCER).segments();
        } finally {
            first.stop();
        }
        assertThat(before).extracting(SegmentInfo::getStatus)
                .containsExactly(SegmentStatus.SEALED, SegmentStatus.SEALED, SegmentStatus.OPEN);
        String openId = before.get(2).getId();

        // life 2: everything is found again; the open segment continues; ids stay reserved
        CamelContext second = Spool.startContext(storeDir, KEY, sim.baseUrl(), producerRoute());
        try {
            BatchStore store = Spool.store(second, PRODUCER);
            List<SegmentInfo> after = store.segments();
            assertThat(after).extracting(SegmentInfo::getId)
                    .containsExactlyElementsOf(before.stream().map(SegmentInfo::getId).toList());
            assertThat(after).extracting(SegmentInfo::getStatus)
                    .containsExactly(SegmentStatus.SEALED, SegmentStatus.SEALED, SegmentStatus.OPEN);
            assertThat(after).extracting(SegmentInfo::getRequestCount).containsExactly(5, 5, 2);
            assertThat(after).extracting(SegmentInfo::getBytes)
                    .containsExactlyElementsOf(before.stream().map(SegmentInfo::getBytes).toList());
            assertThat(after.subList(0, 2)).extracting(SegmentInfo::getSealReason)
                    .containsOnly("maxRequestsPerBatch");
            for (int i = 0; i < 12; i++) {
                assertThat(store.containsCustomId("r-" + i)).as("r-%s", i).isTrue();
            }
            Exchange dup = send(second, 3, false);
            assertThat(dup.getException()).isInstanceOf(DuplicateCustomIdException.class);
            assertThat(send(second, 12, false).getException()).isNull();
            assertThat(send(second, 13, false).getException()).isNull();
            SegmentInfo open = store.segment(openId);
            assertThat(open.getStatus()).isEqualTo(SegmentStatus.OPEN);
            assertThat(open.getRequestCount()).isEqualTo(4);
            assertThat(Spool.linesBySegment(storeDir, "restart").get(openId)).hasSize(4)
                    .extracting(n -> n.path("custom_id").asText()).containsExactly("r-10", "r-11", "r-12", "r-13");
            assertThat(Spool.carryLines(storeDir, "restart")).extracting(n -> n.path("c").asText())
                    .contains("r-12", "r-13");
        } finally {
            second.stop();
        }

        // life 3, with a consumer: the sealed segments are submitted; the open one after a flush
        CamelContext third = Spool.startContext(storeDir, KEY, sim.baseUrl(), new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to(PRODUCER);
                from("openai-batch:restart?pollInterval=30&maxPollInterval=200").to("mock:results");
            }
        });
        try {
            MockEndpoint results = third.getEndpoint("mock:results", MockEndpoint.class);
            results.expectedMessageCount(15);
            BatchStore store = Spool.store(third, PRODUCER);
            assertThat(store.segment(openId).getRequestCount()).isEqualTo(4);
            assertThat(send(third, 14, true).getException()).isNull();
            results.assertIsSatisfied(30_000);
            Set<String> ids = new HashSet<>();
            List<String> problems = new ArrayList<>();
            for (Exchange ex : results.getReceivedExchanges()) {
                String id = ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
                ids.add(id);
                int i = Integer.parseInt(id.substring(2));
                if (!Integer.valueOf(i).equals(ex.getMessage().getHeader("seq"))) {
                    problems.add(id + " seq " + ex.getMessage().getHeader("seq"));
                }
                if (!("Echo: Calculate: 10 + " + i + " = ").equals(ex.getMessage().getBody(String.class))) {
                    problems.add(id + " body " + ex.getMessage().getBody(String.class));
                }
            }
            assertThat(problems).isEmpty();
            assertThat(ids).hasSize(15);
            for (int i = 0; i < 15; i++) {
                assertThat(ids).contains("r-" + i);
            }
            assertThat(sim.stats().batchesCreated()).isEqualTo(3);
            await().atMost(Duration.ofSeconds(10)).until(() -> store.segments().isEmpty());
        } finally {
            third.stop();
        }
    }
}
