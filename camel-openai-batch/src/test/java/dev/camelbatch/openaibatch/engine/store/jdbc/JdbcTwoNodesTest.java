package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.store.BatchStoreContract;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.MAPPER;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.ids;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two JDBC stores of one name on one database (two nodes), each with producers on several threads: every node fills
 * open segments of its own (no segment holds requests of both while both are busy), every cutting limit holds in
 * every segment, every request is stored once, the counts of each segment are its rows, and sealing by age seals
 * the open segments of both. A node that stops leaves its open segment to the other.
 */
@Timeout(180)
class JdbcTwoNodesTest {

    private static final String CHAT = "/v1/chat/completions";
    private static final AtomicInteger NAMES = new AtomicInteger();

    @TempDir
    Path tmp;

    private final List<Runnable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).run();
        }
    }

    private DataSource database(String database) {
        if (database.equals("postgres")) {
            JdbcConnectionPool pool = TestDatabases.postgres();
            cleanup.add(pool::dispose);
            return pool;
        }
        JdbcConnectionPool pool = TestDatabases.h2(false);
        cleanup.add(pool::dispose);
        return pool;
    }

    private JdbcBatchStore node(DataSource ds, String prefix, String name, String node) throws Exception {
        // one append lane: a node's open segment is the one of its lane
        return node(ds, prefix, name, node, 1);
    }

    private JdbcBatchStore node(DataSource ds, String prefix, String name, String node, int lanes) throws Exception {
        JdbcBatchStore store = new JdbcBatchStore(ds, name, prefix, SyncPolicy.INTERVAL, MAPPER,
                tmp.resolve(node)).appendLanes(lanes);
        store.start();
        cleanup.add(store::close);
        return store;
    }

    /** A request whose line length and tokens vary with i (the byte and token limits cut at different places). */
    private static SpoolRecord request(String id, int i) {
        String line = "{\"custom_id\":\"" + id + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                      + "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(i % 37)
                      + "\"}]}}";
        return new SpoolRecord(id, line.getBytes(StandardCharsets.UTF_8), null, 1 + i % 5);
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgres" })
    void twoNodesFillSegmentsOfTheirOwnWithinEveryLimit(String database) throws Exception {
        DataSource ds = database(database);
        String prefix = TestDatabases.uniquePrefix("nodes");
        cleanup.add(() -> TestDatabases.dropTables(ds, prefix));
        String name = "nodes-" + NAMES.incrementAndGet();
        JdbcBatchStore a = node(ds, prefix, name, "a");
        JdbcBatchStore b = node(ds, prefix, name, "b");
        SegmentLimits limits = new SegmentLimits(40, 4_000, 90, 0);
        int threads = 4;
        int each = 150;
        ExecutorService pool = Executors.newFixedThreadPool(2 * threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<List<String>>> futures = new ArrayList<>();
        for (JdbcBatchStore node : List.of(a, b)) {
            String tag = node == a ? "a" : "b";
            for (int t = 0; t < threads; t++) {
                int tt = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    List<String> sealed = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        sealed.addAll(node.append(CHAT, "m", List.of(request(tag + tt + "-" + i, i)), limits));
                    }
                    return sealed;
                }));
            }
        }
        start.countDown();
        Set<String> sealedByAppends = new HashSet<>();
        for (Future<List<String>> f : futures) {
            sealedByAppends.addAll(f.get(120, TimeUnit.SECONDS));
        }
        pool.shutdown();

        Map<String, String> nodeOfId = new HashMap<>();
        int total = 0;
        List<SegmentInfo> segments = a.segments();
        for (SegmentInfo s : segments) {
            List<String> lines = BatchStoreContract.lines(a, s.getId());
            List<String> segIds = ids(a, s.getId());
            assertThat(segIds).as("rows of %s", s.getId()).hasSize(s.getRequestCount());
            assertThat(s.getBytes()).as("bytes of %s", s.getId())
                    .isEqualTo(lines.stream().mapToLong(l -> l.getBytes(StandardCharsets.UTF_8).length + 1).sum());
            assertThat(s.getRequestCount()).isLessThanOrEqualTo(limits.maxRequests());
            assertThat(s.getBytes()).isLessThanOrEqualTo(limits.maxBytes());
            assertThat(s.getTokens()).isLessThanOrEqualTo(limits.maxTokens());
            Set<String> nodes = new HashSet<>();
            for (String id : segIds) {
                assertThat(nodeOfId.put(id, s.getId())).as("%s stored once", id).isNull();
                nodes.add(id.substring(0, 1));
            }
            assertThat(nodes).as("the nodes whose requests are in %s", s.getId()).hasSize(1);
            total += segIds.size();
            if (s.getStatus() == SegmentStatus.SEALED) {
                assertThat(sealedByAppends).contains(s.getId());
                // sealed before the next request would have crossed a limit
                assertThat(s.getSealReason()).isIn("maxRequestsPerBatch", "maxBatchBytes", "maxBatchTokens");
            }
        }
        assertThat(total).isEqualTo(2 * threads * each);
        List<SegmentInfo> open = segments.stream().filter(s -> s.getStatus() == SegmentStatus.OPEN).toList();
        assertThat(open).as("an open segment per node").hasSize(2);

        // sealing by age (any node's engine) seals the open segments of both nodes
        List<String> aged = b.sealOpen(s -> true, SealReason.BATCH_TIMEOUT);
        assertThat(aged).containsExactlyInAnyOrderElementsOf(open.stream().map(SegmentInfo::getId).toList());
        assertThat(a.segments()).noneMatch(s -> s.getStatus() == SegmentStatus.OPEN);
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgres" })
    void twoLanesOfOneNodeFillSegmentsOfTheirOwn(String database) throws Exception {
        DataSource ds = database(database);
        String prefix = TestDatabases.uniquePrefix("lanes");
        cleanup.add(() -> TestDatabases.dropTables(ds, prefix));
        JdbcBatchStore store = node(ds, prefix, "lanes-" + NAMES.incrementAndGet(), "a", 2);
        SegmentLimits limits = new SegmentLimits(25, 4_000, 0, 0);
        // a producer's lane is chosen by its thread: one thread for each lane
        List<Thread> producers = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int lane = 0; producers.size() < 2; ) {
            String tag = "t" + producers.size();
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < 60; i++) {
                        store.append(CHAT, "m", List.of(request(tag + "-" + i, i)), limits);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            if (t.getId() % 2 == lane) {
                producers.add(t);
                lane++;
            }
        }
        producers.forEach(Thread::start);
        for (Thread t : producers) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertThat(failures).isEmpty();

        int total = 0;
        for (SegmentInfo s : store.segments()) {
            List<String> segIds = ids(store, s.getId());
            assertThat(segIds).as("rows of %s", s.getId()).hasSize(s.getRequestCount());
            assertThat(s.getRequestCount()).isLessThanOrEqualTo(limits.maxRequests());
            assertThat(segIds.stream().map(id -> id.substring(0, 2)).distinct())
                    .as("the producers whose requests are in %s", s.getId()).hasSize(1);
            total += segIds.size();
        }
        assertThat(total).isEqualTo(120);
        assertThat(store.segments()).as("an open segment per lane")
                .filteredOn(s -> s.getStatus() == SegmentStatus.OPEN).hasSize(2);
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgres" })
    void aStoppedNodesOpenSegmentIsFilledByTheOther(String database) throws Exception {
        DataSource ds = database(database);
        String prefix = TestDatabases.uniquePrefix("nodes");
        cleanup.add(() -> TestDatabases.dropTables(ds, prefix));
        String name = "nodes-" + NAMES.incrementAndGet();
        JdbcBatchStore a = node(ds, prefix, name, "a");
        JdbcBatchStore b = node(ds, prefix, name, "b");
        SegmentLimits roomy = BatchStoreContract.ROOMY;
        a.append(CHAT, "m", List.of(request("a1", 1), request("a2", 2)), roomy);
        b.append(CHAT, "m", List.of(request("b1", 3)), roomy);
        assertThat(a.segments()).filteredOn(s -> s.getStatus() == SegmentStatus.OPEN).hasSize(2);

        a.close();
        JdbcBatchStore c = node(ds, prefix, name, "c");
        // a's open segment is free now: the next node without one of its own adopts it
        c.append(CHAT, "m", List.of(request("c1", 4)), roomy);
        b.append(CHAT, "m", List.of(request("b2", 5)), roomy);
        List<SegmentInfo> open = c.segments().stream().filter(s -> s.getStatus() == SegmentStatus.OPEN).toList();
        assertThat(open).hasSize(2);
        assertThat(open).anySatisfy(s -> assertThat(ids(c, s.getId())).containsExactly("a1", "a2", "c1"));
        assertThat(open).anySatisfy(s -> assertThat(ids(c, s.getId())).containsExactly("b1", "b2"));
    }
}
