package dev.camelbatch.openaibatch.failover;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import dev.camelbatch.openaibatch.ExecutionAudit;
import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import dev.camelbatch.openaibatch.simulator.Fault;
import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two nodes (child JVMs) share the database and the simulator, both spooling and consuming; node A is killed with
 * SIGKILL, once while it submits batches and once while it emits results, and a new node A2 takes A's place as a
 * producer. Afterwards every request has its result, no segment attempt was submitted as two batches, the segments
 * A held were finished by the other nodes (after its leases expired), duplicates stay within the guarantee (the line
 * in flight at the kill) and no remote file is left. And A killed again and again ({@code failover.kills}, default 6),
 * each time at another point.
 * <p>
 * The database is the PostgreSQL server of the tests; without one (outside CI) an H2 server in this JVM.
 */
@Timeout(600)
class JdbcFailoverTest {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcFailoverTest.class);
    private static final int N = 240;
    private static final long LEASE = 1_500;

    static String url;
    static String user;
    static String password;
    static Server h2Server;
    static JdbcConnectionPool db;

    @TempDir
    Path work;

    @BeforeAll
    static void database() throws Exception {
        if (TestDatabases.postgresConfigured()) {
            url = System.getenv(TestDatabases.URL);
            user = System.getenv(TestDatabases.USER);
            password = System.getenv(TestDatabases.PASSWORD);
        } else {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                TestDatabases.requirePostgres();
            }
            LOG.warn("PostgreSQL is not configured ({}): the failover test runs on an H2 server instead",
                    TestDatabases.URL);
            h2Server = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
            url = "jdbc:h2:tcp://localhost:" + h2Server.getPort() + "/mem:failover;DB_CLOSE_DELAY=-1";
            user = "sa";
            password = "";
        }
        db = TestDatabases.pooled(url, user, password);
    }

    @AfterAll
    static void close() {
        if (db != null) {
            db.dispose();
        }
        if (h2Server != null) {
            h2Server.stop();
        }
    }

    @Test
    void aNodeKilledWhileSubmittingIsTakenOver() throws Exception {
        run("submitting", () -> count(work.resolve("events-A.log"), "SUBMITTED ") >= 1);
    }

    @Test
    void aNodeKilledWhileEmittingIsTakenOver() throws Exception {
        run("emitting", () -> lines(work.resolve("results-A.log")).size() >= 25);
    }

    /**
     * Node A is killed {@code failover.kills} times (default 6; {@code -Dfailover.kills=10} and more for the long
     * run), each time at another point, and a new life of it comes back each time; node B goes on throughout. The
     * points: while it uploads a segment's requests and while it creates a batch (in both cases after the call took
     * effect: the simulator holds the answer, so the file or the batch exists and A was never told), while it polls a
     * batch in flight, and while it emits results. A point counts as reached when the database shows a segment in
     * that state leased by this life of A (or, for emission, when its route has received results). Kills landed per
     * point are asserted and printed with the seed.
     */
    @Test
    void aNodeKilledAgainAndAgainIsTakenOverEachTime() throws Exception {
        int kills = Integer.getInteger("failover.kills", 6);
        int n = Integer.getInteger("failover.requests", 900);
        String prefix = TestDatabases.uniquePrefix("failover");
        long seed = Long.getLong("failover.seed", System.nanoTime());
        LOG.info("failover test (repeated): {} kills, {} requests, 2 nodes, lease {} ms, seed {}", kills, n, LEASE,
                seed);
        java.util.Random random = new java.util.Random(seed);
        List<Process> children = new ArrayList<>();
        Map<String, Integer> landed = new java.util.TreeMap<>();
        Set<String> sentAgain = new HashSet<>();
        String[] points = { "uploading", "creating", "polling", "emitting" };
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-test-failover").port(0)
                .stepDelay(Duration.ofMillis(25)).linesPerStep(10).seed(seed).build().start()) {
            Process a = start(sim, prefix, "A0", "A", 0, n / 2);
            Process b = start(sim, prefix, "B", "B", n / 2, n);
            children.add(a);
            children.add(b);
            for (int k = 0; k < kills; k++) {
                String label = "A" + k;
                String point = points[k % points.length];
                String owner = "node-" + label + "-";
                long held = sim.faults().answersHeld();
                BooleanSupplier reached = switch (point) {
                    case "uploading" -> {
                        sim.faults().slowResponseDelay(Duration.ofMillis(400))
                                .probability("POST /v1/files", 1.0, Fault.HELD_ANSWER);
                        yield () -> segmentsLeased(prefix, owner, "UPLOADING") > 0 && sim.faults().answersHeld() > held;
                    }
                    case "creating" -> {
                        sim.faults().slowResponseDelay(Duration.ofMillis(400))
                                .probability("POST /v1/batches", 1.0, Fault.HELD_ANSWER);
                        yield () -> segmentsLeased(prefix, owner, "CREATING") > 0 && sim.faults().answersHeld() > held;
                    }
                    case "polling" -> () -> segmentsLeased(prefix, owner, "SUBMITTED") > 0;
                    default -> () -> lines(work.resolve("results-" + label + ".log")).size() >= 3;
                };
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                boolean inPoint = false;
                while (System.nanoTime() < deadline && a.isAlive()) {
                    if (reached.getAsBoolean()) {
                        inPoint = true;
                        break;
                    }
                    Thread.sleep(5);
                }
                assertThat(a.isAlive()).as("seed %d: node %s died by itself; %s", seed, label, tails()).isTrue();
                if (inPoint) {
                    Thread.sleep(random.nextInt(30));
                    landed.merge(point, 1, Integer::sum);
                }
                a.destroyForcibly().waitFor();
                sim.faults().clear();
                // the request A was sending when it died: unacknowledged, its next life sends it again
                Set<String> acked = new HashSet<>(lines(work.resolve("sent-A.log")));
                for (int i = 0; i < n / 2; i++) {
                    if (!acked.contains("r-" + i)) {
                        sentAgain.add("r-" + i);
                        break;
                    }
                }
                a = start(sim, prefix, "A" + (k + 1), "A", 0, n / 2);
                children.add(a);
            }
            LOG.info("failover test (repeated, seed {}): kills landed per point {}", seed, landed);
            System.out.println("failover test (repeated, seed " + seed + "): kills landed per point " + landed);
            long deadline = System.currentTimeMillis() + 180_000;
            while (distinct(allResults()).size() < n) {
                assertThat(b.isAlive()).as("seed %d: node B died; %s", seed, tails()).isTrue();
                assertThat(System.currentTimeMillis()).as("seed %d: all results within 180 s (%s of %s); %s", seed,
                        distinct(allResults()).size(), n, tails()).isLessThan(deadline);
                Thread.sleep(50);
            }
            List<String> results = allResults();
            Map<String, Integer> counts = distinct(results);
            for (int i = 0; i < n; i++) {
                assertThat(counts).as("seed %d: result of r-%d", seed, i).containsKey("r-" + i);
            }
            for (String line : results) {
                String[] parts = line.split(" ", 3);
                int seq = Integer.parseInt(parts[1]);
                assertThat(parts[2]).isEqualTo("1 + " + seq + " = " + (seq + 1));
            }
            long duplicates = results.size() - counts.size();
            System.out.println("failover test (repeated, seed " + seed + "): " + results.size() + " results for " + n
                               + " requests, " + duplicates + " duplicates over " + kills + " kills");
            // per kill: the line in flight (emission), and the request A was sending (sent again by its next life)
            assertThat(duplicates).as("seed %d: duplicates", seed).isLessThanOrEqualTo(2L * kills);
            ExecutionAudit.assertNoRequestExecutedTwice(sim, sentAgain);
            ExecutionAudit.assertOneBatchPerSegmentAttempt(sim);
            for (String point : points) {
                assertThat(landed.getOrDefault(point, 0)).as("seed %d: kills that landed while %s (%s)", seed, point,
                        landed).isPositive();
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(sim.stats().filesStored()).as("remote files left").isZero();
                assertThat(liveSegments(prefix)).as("segments left in the store").isZero();
            });
        } finally {
            for (Process p : children) {
                p.destroyForcibly().waitFor();
            }
            TestDatabases.dropTables(db, prefix);
        }
    }

    /** Segments in the given status leased by an owner whose id starts with the prefix. */
    private long segmentsLeased(String prefix, String ownerPrefix, String status) {
        try (Connection c = db.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + prefix + "segments WHERE"
                                                       + " lease_owner LIKE ? AND status = ?")) {
            ps.setString(1, ownerPrefix + "%");
            ps.setString(2, status);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (Exception e) {
            return 0;
        }
    }

    private void run(String point, BooleanSupplier killWhen) throws Exception {
        String prefix = TestDatabases.uniquePrefix("failover");
        long seed = System.nanoTime();
        LOG.info("failover test ({}): {} requests, 2 nodes, lease {} ms, seed {}", point, N, LEASE, seed);
        List<Process> children = new ArrayList<>();
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-test-failover").port(0)
                .stepDelay(Duration.ofMillis(25)).linesPerStep(10).seed(seed).build().start()) {
            Process a = start(sim, prefix, "A", "A", 0, N / 2);
            Process b = start(sim, prefix, "B", "B", N / 2, N);
            children.add(a);
            children.add(b);
            long deadline = System.currentTimeMillis() + 60_000;
            while (!killWhen.getAsBoolean()) {
                assertThat(a.isAlive()).as("node A died by itself; %s", tails()).isTrue();
                assertThat(b.isAlive()).as("node B died by itself; %s", tails()).isTrue();
                assertThat(System.currentTimeMillis()).as("kill point '%s' reached; %s", point, tails())
                        .isLessThan(deadline);
                Thread.sleep(10);
            }
            a.destroyForcibly().waitFor();
            // what node A had acknowledged to its sender: the rest is sent again by A2
            Set<String> ackedByA = new HashSet<>(lines(work.resolve("sent-A.log")));
            // the request A was sending when it died (it sends in order): A2 sends it again, a second request
            Set<String> sentAgain = new HashSet<>();
            for (int i = 0; i < N / 2; i++) {
                if (!ackedByA.contains("r-" + i)) {
                    sentAgain.add("r-" + i);
                    break;
                }
            }
            Set<String> heldByA = inFlight(work.resolve("events-A.log"));
            LOG.info("failover test ({}): killed node A with {} of its segments unfinished: {}", point,
                    heldByA.size(), heldByA);

            // a new node takes A's place as a producer (its unacknowledged requests), B goes on
            Process a2 = start(sim, prefix, "A2", "A", 0, N / 2);
            children.add(a2);
            deadline = System.currentTimeMillis() + 90_000;
            while (distinct(allResults()).size() < N) {
                assertThat(b.isAlive()).as("node B died; see %s", work.resolve("child-B.log")).isTrue();
                assertThat(a2.isAlive()).as("node A2 died; see %s", work.resolve("child-A2.log")).isTrue();
                assertThat(System.currentTimeMillis()).as("all results within 90 s (%s of %s); %s",
                        distinct(allResults()).size(), N, tails()).isLessThan(deadline);
                Thread.sleep(50);
            }

            List<String> results = allResults();
            Map<String, Integer> counts = distinct(results);
            for (int i = 0; i < N; i++) {
                assertThat(counts).as("result of r-%d", i).containsKey("r-" + i);
            }
            for (String line : results) {
                String[] parts = line.split(" ", 3);
                int seq = Integer.parseInt(parts[1]);
                assertThat(parts[0]).isEqualTo("r-" + seq);
                assertThat(parts[2]).isEqualTo("1 + " + seq + " = " + (seq + 1));
            }
            long duplicates = results.size() - counts.size();
            // a request A was sending when it died is sent again by A2 (at-least-once into the spool); if A had
            // stored it and its batch was already done when A2 sent it, it is a new request and has a second
            // result. Every other second result is an emission duplicate: only the line in flight at the kill.
            long resent = 0;
            for (Map.Entry<String, Integer> e : counts.entrySet()) {
                int seq = Integer.parseInt(e.getKey().substring(2));
                if (e.getValue() > 1 && seq < N / 2 && !ackedByA.contains(e.getKey())) {
                    resent += e.getValue() - 1;
                }
            }
            LOG.info("failover test ({}): {} results, {} duplicates ({} of a request sent again by A2)", point,
                    results.size(), duplicates, resent);
            assertThat(duplicates - resent).as("emission duplicates: only the line in flight at the kill")
                    .isLessThanOrEqualTo(1);
            assertThat(resent).as("second results of requests sent again: only the one A was sending")
                    .isLessThanOrEqualTo(1);

            // by label (one batch per segment attempt) and by content (no request executed by two batches, but for
            // the one A2 sent again)
            ExecutionAudit.assertNoRequestExecutedTwice(sim, sentAgain);
            ExecutionAudit.assertOneBatchPerSegmentAttempt(sim);

            // A's unfinished segments were finished by the others once its leases expired
            if ("submitting".equals(point)) {
                assertThat(heldByA).as("A had submitted segments in flight when it was killed").isNotEmpty();
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(doneElsewhereNow()).containsAll(heldByA);
                assertThat(sim.stats().filesStored()).as("remote files left").isZero();
                assertThat(liveSegments(prefix)).as("segments left in the store").isZero();
            });
        } finally {
            for (Process p : children) {
                p.destroyForcibly().waitFor();
            }
            TestDatabases.dropTables(db, prefix);
        }
    }

    private Set<String> doneElsewhereNow() throws Exception {
        Set<String> s = new HashSet<>(segmentsWith(work.resolve("events-B.log"), "DONE "));
        s.addAll(segmentsWith(work.resolve("events-A2.log"), "DONE "));
        return s;
    }

    private Process start(BatchSimulator sim, String prefix, String label, String group, int from, int to)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                FailoverChild.class.getName(), work.toString(), label, group, sim.baseUrl(), "sk-test-failover", url,
                user, password, prefix, Integer.toString(from), Integer.toString(to),
                Long.toString(LEASE));
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(work.resolve("child-" + label + ".log")
                .toString())));
        return pb.start();
    }

    /** The ends of the children's output, for a failure message. */
    private String tails() {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(work)) {
            for (Path p : files.sorted().toList()) {
                if (Files.isRegularFile(p)) {
                    List<String> l = Files.readAllLines(p);
                    sb.append("\n--- ").append(p.getFileName()).append(" (").append(l.size()).append(" lines)\n");
                    if (p.getFileName().toString().startsWith("child-")) {
                        l.subList(Math.max(0, l.size() - 15), l.size()).forEach(x -> sb.append(x).append('\n'));
                    }
                }
            }
        } catch (Exception e) {
            sb.append(e);
        }
        return sb.toString();
    }

    private long liveSegments(String prefix) throws Exception {
        try (Connection c = db.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + prefix + "segments")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The results every node (every life of every node) delivered. */
    private List<String> allResults() throws Exception {
        List<String> all = new ArrayList<>();
        try (var files = Files.list(work)) {
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith("results-")).toList()) {
                all.addAll(lines(p));
            }
        }
        return all;
    }

    /** The complete lines of a file that a kill may have torn at the end. */
    static List<String> lines(Path p) {
        try {
            if (!Files.exists(p)) {
                return List.of();
            }
            String all = Files.readString(p);
            int end = all.lastIndexOf('\n');
            return end < 0 ? List.of() : all.substring(0, end).lines().filter(l -> !l.isBlank()).toList();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static long count(Path events, String prefix) {
        return lines(events).stream().filter(l -> l.startsWith(prefix)).count();
    }

    static Set<String> segmentsWith(Path events, String prefix) {
        Set<String> s = new HashSet<>();
        for (String l : lines(events)) {
            if (l.startsWith(prefix)) {
                s.add(l.substring(prefix.length()));
            }
        }
        return s;
    }

    /** Segments a node submitted and did not finish (by its own events). */
    static Set<String> inFlight(Path events) {
        Set<String> s = segmentsWith(events, "SUBMITTED ");
        s.removeAll(segmentsWith(events, "DONE "));
        return s;
    }

    private static Map<String, Integer> distinct(List<String> lines) {
        Map<String, Integer> m = new HashMap<>();
        for (String l : lines) {
            m.merge(l.split(" ", 2)[0], 1, Integer::sum);
        }
        return m;
    }
}
