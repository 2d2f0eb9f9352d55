package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.ExecutionAudit;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.CreateBatchRequest;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import dev.camelbatch.openaibatch.api.OpenAIJson;
import dev.camelbatch.openaibatch.api.RetryPolicy;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.BatchStoreContract;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import dev.camelbatch.openaibatch.engine.store.jdbc.JdbcBatchStore;
import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import dev.camelbatch.openaibatch.simulator.OpenAIBatchSimulatorExtension;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The submission pipeline against a JDBC store whose writes fail at chosen moments, and against a second node that
 * takes a segment over: a step recorded as started is reconciled before anything is sent again, and a node that
 * lost its lease makes nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SubmissionReconcileTest {

    @RegisterExtension
    static final OpenAIBatchSimulatorExtension SIM = OpenAIBatchSimulatorExtension.builder().apiKey("sk-reconcile")
            .stepDelay(Duration.ofMillis(10)).resetBeforeEach(true).build();

    private static final ObjectMapper MAPPER = OpenAIJson.mapper();
    private static final SegmentLimits ROOMY = new SegmentLimits(50_000, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);

    @TempDir
    Path dir;

    private final JdbcConnectionPool ds = TestDatabases.h2(false);
    private final List<AutoCloseable> open = new ArrayList<>();
    private final Map<String, AtomicInteger> delivered = new ConcurrentHashMap<>();

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        ds.dispose();
    }

    /**
     * The database goes away right after the batch was created: the save of SUBMITTED fails, and so does the save of
     * the failure. When it is back, the segment is still CREATING in the database; the engine looks the batch up
     * and adopts it instead of creating a second one.
     */
    @Test
    void databaseOutageAfterCreateDoesNotCreateTheBatchTwice(BatchSimulator sim) throws Exception {
        JdbcBatchStore real = store("outage");
        AtomicInteger failSaves = new AtomicInteger();
        AtomicBoolean outage = new AtomicBoolean();
        BatchStore flaky = intercept(real, (method, args) -> {
            if (method.equals("update") && ((SegmentInfo) args[0]).getStatus() == SegmentStatus.SUBMITTED
                && outage.compareAndSet(false, true)) {
                failSaves.set(2); // this save and the next (the engine recording the failure)
            }
            if (method.equals("update") && failSaves.get() > 0) {
                failSaves.decrementAndGet();
                throw new IOException("connection to the database lost (simulated)");
            }
        });
        spool(real, "o-", 5);
        BatchEngine engine = engine(flaky, sim, "node-a");
        engine.start();

        await().atMost(Duration.ofSeconds(30)).until(() -> delivered.size() == 5 && real.segments().isEmpty());
        assertThat(delivered.values()).allMatch(n -> n.get() == 1);
        assertThat(sim.stats().batchesCreated()).as("batches created").isEqualTo(1);
        assertThat(engine.stats().remoteCopiesAdopted.get()).as("the batch found again").isEqualTo(1);
        ExecutionAudit.assertClean(sim);
    }

    /**
     * A node records CREATING and pauses past its lease; another node takes the segment over and submits it. When
     * the first node goes on, its lease is confirmed before the create call: it has none, so it makes nothing.
     */
    @Test
    void aNodeThatLostItsLeaseDoesNotCreateTheBatch(BatchSimulator sim) throws Exception {
        JdbcBatchStore storeA = store("lease");
        JdbcBatchStore storeB = store("lease");
        AtomicBoolean tookOver = new AtomicBoolean();
        BatchStore pausing = intercept(storeA, (method, args) -> {
        }, (method, args) -> {
            if (method.equals("update") && ((SegmentInfo) args[0]).getStatus() == SegmentStatus.CREATING
                && tookOver.compareAndSet(false, true)) {
                // node A "pauses" here (CREATING recorded, the create not sent); meanwhile node B takes over
                SegmentInfo s = (SegmentInfo) args[0];
                takeOver(storeB, sim, s);
            }
        });
        spool(storeA, "l-", 3);
        BatchEngine a = engine(pausing, sim, "node-a");
        a.start();

        await().atMost(Duration.ofSeconds(30)).until(() -> sim.stats().batchesCreated() >= 1 && tookOver.get());
        // A goes on after its pause: the batch B created is the only one, whatever A tries
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .until(() -> sim.stats().batchesCreated() == 1);
        ExecutionAudit.assertNoRequestExecutedTwice(sim);
        ExecutionAudit.assertOneBatchPerSegmentAttempt(sim);
    }

    /** Node B claims the lease of A's segment (A's has run out) and submits it to the end. */
    private void takeOver(JdbcBatchStore storeB, BatchSimulator sim, SegmentInfo fromA) {
        try {
            // A's lease expires (made to, rather than waited for)
            try (var c = ds.getConnection(); var ps = c.prepareStatement("UPDATE " + PREFIX + "segments SET"
                    + " lease_until = lease_until - 3600000 WHERE id = ?")) {
                ps.setString(1, fromA.getId());
                ps.executeUpdate();
            }
            assertThat(storeB.tryClaim(fromA.getId(), "node-b", 60_000)).as("B takes the segment over").isTrue();
            SegmentInfo s = storeB.segment(fromA.getId());
            assertThat(s.getStatus()).isEqualTo(SegmentStatus.CREATING);
            // B looked for a batch of this segment attempt, found none (A has not sent its create), and makes it
            Batch batch = client(sim).createBatch(CreateBatchRequest.builder().inputFileId(s.getInputFileId())
                    .endpoint(s.getEndpoint()).metadata(Map.of(BatchEngine.META_NAME, "lease",
                            BatchEngine.META_SEGMENT, s.getId(), BatchEngine.META_ATTEMPT, "1.0")).build());
            s.submittedAs(batch.getId(), batch.getStatus(), batch.getCreatedAt(), System.currentTimeMillis());
            storeB.update(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------------------------------- set-up

    private static final String PREFIX = "rec_";

    private JdbcBatchStore store(String name) throws IOException {
        JdbcBatchStore s = new JdbcBatchStore(ds, name, PREFIX, SyncPolicy.INTERVAL, MAPPER, dir.resolve("upload-"
                + open.size()));
        s.start();
        open.add(s::close);
        return s;
    }

    private void spool(BatchStore store, String prefix, int n) throws IOException {
        List<SpoolRecord> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            records.add(BatchStoreContract.rec(prefix + i));
        }
        store.append("/v1/chat/completions", "gpt-4o-mini", records, ROOMY);
        store.sealOpen(s -> true, SealReason.FLUSH);
    }

    private OpenAIBatchClient client(BatchSimulator sim) {
        OpenAIBatchClient c = new OpenAIBatchClient(OpenAIClientConfig.builder().apiKey(sim.apiKey())
                .baseUrl(sim.baseUrl()).retryPolicy(RetryPolicy.builder().maxAttempts(2)
                        .initialDelay(Duration.ofMillis(10)).build()).build());
        open.add(c);
        return c;
    }

    private BatchEngine engine(BatchStore store, BatchSimulator sim, String node) {
        EngineConfig ec = new EngineConfig();
        ec.pollInterval = 20;
        ec.maxPollInterval = 100;
        ec.batchTimeout = 0;
        ec.submitRetryDelay = 50;
        ec.nodeId = node;
        ec.leaseDuration = 60_000;
        BatchEngine e = new BatchEngine(store, client(sim), ec, line -> {
            delivered.computeIfAbsent(line.customId(), k -> new AtomicInteger()).incrementAndGet();
            return true;
        }, null, MAPPER, dir.resolve("work-" + node));
        open.add(e);
        return e;
    }

    /** What to do around a store method (it may throw). */
    @FunctionalInterface
    interface Hook {
        void before(String method, Object[] args) throws Exception;
    }

    private static BatchStore intercept(BatchStore target, Hook before) {
        return intercept(target, before, (method, args) -> {
        });
    }

    /** The store, with {@code before} run before each method and {@code after} after each that returned. */
    private static BatchStore intercept(BatchStore target, Hook before, Hook after) {
        return (BatchStore) Proxy.newProxyInstance(BatchStore.class.getClassLoader(),
                new Class<?>[] { BatchStore.class }, (proxy, m, args) -> {
                    before.before(m.getName(), args);
                    Object result;
                    try {
                        result = m.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    after.before(m.getName(), args);
                    return result;
                });
    }
}
