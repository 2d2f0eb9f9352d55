package dev.camelbatch.openaibatch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.engine.EngineStats;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import dev.camelbatch.openaibatch.simulator.Fault;
import org.apache.camel.CamelContext;
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
 * While one finished batch is emitted, the output file of the next one is downloaded on a thread of its own; every
 * line still comes out once, batch after batch, and the work directory is empty at the end.
 */
@Timeout(300)
class DownloadAheadTest extends CamelTestSupport {

    static BatchSimulator sim;

    @TempDir
    static Path tempRoot;
    /** A store of each test's own; the simulator is reset between tests. */
    private Path storeDir;

    private final CountDownLatch firstLineHeld = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<String> batchOfLine = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> seen = new ConcurrentHashMap<>();

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey("sk-test-ahead").port(0).stepDelay(Duration.ofMillis(5))
                .linesPerStep(1000).seed(11).build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        sim.reset();
        storeDir = Files.createTempDirectory(tempRoot, "store-");
        CamelContext context = super.createCamelContext();
        TestComponents.onSimulator(context, sim, "sk-test-ahead", storeDir);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:ahead?model=gpt-4o-mini&maxRequestsPerBatch=40&batchTimeout=200");
                // started once every request is spooled: its engine then submits all five batches in its first
                // cycle, before any of them can finish
                from("openai-batch:ahead?pollInterval=20&maxPollInterval=50").routeId("results").autoStartup(false)
                        .process(e -> {
                            // the first line waits until every batch has finished on the service: the next poll then
                            // finds the other four finished at once
                            if (firstLineHeld.getCount() > 0) {
                                firstLineHeld.countDown();
                                assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
                            }
                            String id = e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
                            seen.merge(id, 1, Integer::sum);
                            batchOfLine.add(e.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID, String.class));
                        });
            }
        };
    }

    @Test
    void theNextOutputFileIsDownloadedWhileABatchIsEmitted() throws Exception {
        EngineStats stats = run(0);
        assertThat(stats.filesDownloadedAhead.get()).as("output files downloaded ahead").isPositive();
    }

    @Test
    void aBrokenDownloadAheadIsDoneAgainByTheEngine() throws Exception {
        // the downloads after the first emission began are cut short: whichever thread meets them, every line still
        // comes out once and nothing is left behind
        EngineStats stats = run(3);
        assertThat(sim.faults().injected().get(Fault.TRUNCATED_DOWNLOAD)).isEqualTo(3);
        assertThat(stats.filesDownloadedAhead.get() + stats.downloadRetries.get()).isGreaterThanOrEqualTo(3);
    }

    private EngineStats run(int brokenDownloads) throws Exception {
        int n = 200;
        for (int i = 0; i < n; i++) {
            final int k = i;
            template.send("direct:in", e -> {
                e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "a-" + k);
                e.getMessage().setBody("Calculate: 1 + " + k + " = ");
            });
        }
        // what a crash in the middle of downloads leaves behind: unfinished files, of both kinds, for every batch
        Path work = storeDir.resolve("ahead").resolve("work");
        Files.createDirectories(work);
        try (Stream<Path> state = Files.list(storeDir.resolve("ahead").resolve("segments"))) {
            for (Path p : state.filter(p -> p.getFileName().toString().endsWith(".state.json")).toList()) {
                String id = p.getFileName().toString().replace(".state.json", "");
                Files.writeString(work.resolve(id + ".out.jsonl.part"), "{\"id\":\"cut short");
                Files.writeString(work.resolve(id + ".out.jsonl.ahead"), "{\"id\":\"cut short");
            }
        }
        context.getRouteController().startRoute("results");
        assertThat(firstLineHeld.await(30, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> sim.stats().batchesByStatus().getOrDefault("completed", 0L)
                                                          .longValue() == 5);
        if (brokenDownloads > 0) {
            sim.faults().nextCalls("GET /v1/files/*/content", brokenDownloads, Fault.TRUNCATED_DOWNLOAD);
        }
        release.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == n);

        assertThat(seen.values()).as("every line once").allMatch(c -> c == 1);
        // batch after batch: a batch's lines are not interleaved with another's
        long switches = 0;
        for (int i = 1; i < batchOfLine.size(); i++) {
            if (!batchOfLine.get(i).equals(batchOfLine.get(i - 1))) {
                switches++;
            }
        }
        assertThat(switches).isEqualTo(4);
        EngineStats stats = context.getEndpoint("openai-batch:ahead", OpenAIBatchEndpoint.class).getMonitor().engine()
                .stats();
        // the last batch is done once its clean-up follows its last line
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(stats.batchesDone.get()).isEqualTo(5));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sim.stats().filesStored()).isZero());
        // no downloaded file is left in the work directory, nor any that a crash left there
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (Stream<Path> files = Files.walk(storeDir)) {
                assertThat(files.filter(p -> p.getParent() != null
                                             && "work".equals(p.getParent().getFileName().toString())
                                             && p.getFileName().toString().contains(".jsonl")).toList()).isEmpty();
            }
        });
        return stats;
    }
}
