package dev.camelbatch.openaibatch;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The PostgreSQL server stops in the middle of a run and starts again: producers sending meanwhile get a clear error
 * on their exchange (nothing hangs), every acknowledged request comes out once, no request is executed by two
 * batches, and the engine resumes by itself - the route and the JVM are never restarted.
 * <p>
 * Needs the server's control command in {@code OPENAI_BATCH_TEST_PG_CTL} (e.g. {@code pg_ctlcluster 15 main}, as
 * {@code .ci/run} exports it); the outage lasts {@code outage.seconds} (default 10; 30 for the long version).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class JdbcOutageTest extends CamelTestSupport {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcOutageTest.class);
    private static final String CTL = "OPENAI_BATCH_TEST_PG_CTL";
    private static final int N = 900;

    static BatchSimulator sim;
    static JdbcConnectionPool db;
    static String prefix;

    @TempDir
    static Path storeDir;

    private final Map<String, AtomicInteger> results = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() {
        TestDatabases.requirePostgres();
        String ctl = System.getenv(CTL);
        if (ctl == null || ctl.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI=true and " + CTL + " is not set: the outage test cannot stop the server (.ci/run sets it)");
            }
            org.junit.jupiter.api.Assumptions.abort("SKIPPED: " + CTL + " is not set (e.g. 'pg_ctlcluster 15 main')");
        }
        sim = BatchSimulator.builder().apiKey("sk-test-outage").port(0).stepDelay(Duration.ofMillis(20))
                .linesPerStep(10).seed(3).build().start();
        db = TestDatabases.postgres();
        prefix = TestDatabases.uniquePrefix("outage");
    }

    @AfterAll
    static void stop() {
        if (sim != null) {
            sim.close();
        }
        if (db != null) {
            TestDatabases.dropTables(db, prefix);
            db.dispose();
        }
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        context.getRegistry().bind("db", db);
        OpenAIBatchComponent component = TestComponents.onSimulator(context, sim, "sk-test-outage", storeDir);
        component.getConfiguration().setLeaseDuration(5_000);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                String store = "dataSource=#db&tablePrefix=" + prefix;
                from("direct:in").to("openai-batch:outage?" + store + "&model=gpt-4o-mini&maxRequestsPerBatch=25"
                                     + "&batchTimeout=200");
                from("openai-batch:outage?" + store + "&pollInterval=20&maxPollInterval=200")
                        .process(e -> results.computeIfAbsent(
                                e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class),
                                k -> new AtomicInteger()).incrementAndGet());
            }
        };
    }

    @Test
    void aDatabaseOutageIsSurvived() throws Exception {
        int outageSeconds = Integer.getInteger("outage.seconds", 10);
        List<String> acked = new CopyOnWriteArrayList<>();
        List<String> refused = new CopyOnWriteArrayList<>();
        List<String> errors = new CopyOnWriteArrayList<>();
        Thread sender = new Thread(() -> {
            for (int i = 0; i < N; i++) {
                String id = "o-" + i;
                Exchange ex = send(id);
                if (ex.getException() == null) {
                    acked.add(id);
                } else {
                    refused.add(id);
                    errors.add(ex.getException().toString());
                }
                sleep(15);
            }
        }, "outage-sender");
        sender.start();

        // work in every stage: requests spooled, batches submitted, lines delivered
        await().atMost(Duration.ofMinutes(2)).until(() -> acked.size() >= 150 && !results.isEmpty());
        int before = acked.size();
        pgCtl("stop", "-m", "fast");
        LOG.info("outage test: PostgreSQL stopped after {} acknowledged requests and {} results", before,
                results.size());
        try {
            await().atMost(Duration.ofMinutes(1)).until(() -> refused.size() >= 3);
            Thread.sleep(outageSeconds * 1000L);
        } finally {
            pgCtl("start");
        }
        LOG.info("outage test: PostgreSQL started again; {} requests refused meanwhile", refused.size());
        sender.join(TimeUnit.MINUTES.toMillis(3));
        assertThat(sender.isAlive()).as("the producer never hangs").isFalse();

        // a refused exchange has a clear error; sent again (as a redelivery would), it is stored once: a refusal
        // that came after the request was stored is answered as a duplicate
        assertThat(errors).allSatisfy(e -> assertThat(e).containsAnyOf("database", "connect", "Connection",
                "refused", "SQL", "PSQL", "I/O"));
        List<String> again = new ArrayList<>();
        for (String id : refused) {
            Exchange ex = send(id);
            if (ex.getException() == null || ex.getException() instanceof DuplicateCustomIdException) {
                again.add(id);
            } else {
                fail("sending " + id + " again after the outage failed: " + ex.getException());
            }
        }
        assertThat(acked.size() + again.size()).isEqualTo(N);

        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                .until(() -> results.size() >= N);
        for (String id : acked) {
            assertThat(results).as("result of acknowledged %s", id).containsKey(id);
        }
        long duplicates = results.values().stream().mapToInt(AtomicInteger::get).filter(c -> c > 1).count();
        LOG.info("outage test: {} results, {} delivered more than once", results.size(), duplicates);
        ExecutionAudit.assertNoRequestExecutedTwice(sim);
        ExecutionAudit.assertOneBatchPerSegmentAttempt(sim);
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> ExecutionAudit.assertNoRemoteFilesLeft(sim));
        System.out.println("outage test: " + before + " acknowledged before the outage, " + refused.size()
                           + " refused during it, " + results.size() + " results, " + duplicates
                           + " delivered twice");
    }

    private Exchange send(String id) {
        return template.request("direct:in", e -> {
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, id);
            e.getMessage().setBody("Calculate: 1 + 1 = ");
        });
    }

    private static void pgCtl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(System.getenv(CTL).trim().split("\\s+")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(new File("target/outage-pg-ctl.log"))).start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("%s finished", cmd).isTrue();
        assertThat(p.exitValue()).as("%s exit code (see target/outage-pg-ctl.log)", cmd).isZero();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
