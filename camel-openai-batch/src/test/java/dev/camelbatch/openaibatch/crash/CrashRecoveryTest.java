package dev.camelbatch.openaibatch.crash;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import dev.camelbatch.openaibatch.ExecutionAudit;
import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import dev.camelbatch.openaibatch.simulator.Fault;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kills a JVM running the whole loop (spool, upload, create, poll, download, emit) with SIGKILL and restarts it, many
 * times; afterwards every request has its result, no request was executed by two batches (by content), every batch
 * has a segment attempt of its own, no remote file is left, and duplicates stay within the guarantee (at most the
 * line in flight at each kill).
 * <p>
 * Each kill aims at a {@link Phase} and waits until the child is in it before it strikes: while requests are spooled,
 * while an upload has taken effect and its answer is still on its way, the same for a create, while batches run, and
 * while lines are emitted. How many kills landed in each phase is asserted and printed, with the seed (also in every
 * failure; {@code -Dcrash.seed=S} repeats a run). {@code crash.runs} kills (default 10 in the normal build;
 * {@code -Dcrash.runs=100 -Dcrash.requests=4000} for the full suite, see docs/reliability.md), on the file store in
 * both emission orders and on PostgreSQL.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class CrashRecoveryTest {

    private static final Logger LOG = LoggerFactory.getLogger(CrashRecoveryTest.class);
    private static final String KEY = "sk-test-crash";
    /** How long an answer is held while a kill aims at it: longer than any life. */
    private static final Duration HOLD = Duration.ofSeconds(60);

    /** Where in the loop a kill lands. */
    enum Phase {
        /** Requests are being spooled. */
        SPOOLING,
        /** An upload has stored its file at the service; its answer has not reached the child. */
        UPLOAD_UNANSWERED,
        /** A create has made its batch at the service; its answer has not reached the child. */
        CREATE_UNANSWERED,
        /** Batches are running and polled. */
        POLLING,
        /** Result lines are being emitted. */
        EMITTING
    }

    @TempDir
    Path work;

    @Test
    void nothingLostNothingPaidTwiceAcrossKills() throws Exception {
        run(false, null);
    }

    /**
     * The same with {@code emitInOrder=true}: kills also land while a batch's lines are being sorted and while the
     * sorted sequence is emitted; each batch's lines still come in request order (a line repeated after a kill comes
     * again where it was).
     */
    @Test
    void inRequestOrderAcrossKills() throws Exception {
        run(true, null);
    }

    /** The same on the JDBC store in PostgreSQL (leases of 1.5 s, so that each new life takes the segments over). */
    @Test
    void onPostgresAcrossKills() throws Exception {
        TestDatabases.requirePostgres();
        String prefix = TestDatabases.uniquePrefix("crash");
        JdbcConnectionPool ds = TestDatabases.postgres();
        try {
            run(false, prefix);
        } finally {
            TestDatabases.dropTables(ds, prefix);
            ds.dispose();
        }
    }

    private void run(boolean inOrder, String jdbcPrefix) throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        try {
            runWithSeed(inOrder, jdbcPrefix, seed);
        } catch (AssertionError e) {
            throw new AssertionError("crash test with seed " + seed + " (repeat with -Dcrash.seed=" + seed + "): "
                                     + e.getMessage(), e);
        }
    }

    private void runWithSeed(boolean inOrder, String jdbcPrefix, long seed) throws Exception {
        int kills = Integer.getInteger("crash.runs", 10);
        int n = Integer.getInteger("crash.requests", 1200);
        String store = jdbcPrefix != null ? "PostgreSQL" : "file store";
        LOG.info("crash test ({}, {}): {} kills, {} requests, seed {}", store, inOrder ? "in order" : "file order",
                kills, n, seed);
        Random random = new Random(seed);
        Map<Phase, Integer> landed = new EnumMap<>(Phase.class);
        List<String> missed = new ArrayList<>();
        try (BatchSimulator sim = BatchSimulator.builder().apiKey(KEY).port(0)
                .stepDelay(Duration.ofMillis(25)).linesPerStep(15).seed(seed).build().start()) {
            for (int k = 0; k < kills; k++) {
                Phase phase = Phase.values()[k % Phase.values().length];
                sim.faults().clear();
                sim.faults().slowResponseDelay(HOLD);
                long held = sim.faults().answersHeld();
                if (phase == Phase.UPLOAD_UNANSWERED) {
                    sim.faults().nextCalls("POST /v1/files", 1, Fault.HELD_ANSWER);
                } else if (phase == Phase.CREATE_UNANSWERED) {
                    sim.faults().nextCalls("POST /v1/batches", 1, Fault.HELD_ANSWER);
                }
                long sent = lines(work.resolve("sent.log"));
                long results = lines(work.resolve("results.log"));
                Process p = startChild(sim, n, inOrder, jdbcPrefix);
                BatchSimulator s = sim;
                BooleanSupplier reached = switch (phase) {
                    case SPOOLING -> () -> lines(work.resolve("sent.log")) > sent;
                    case UPLOAD_UNANSWERED, CREATE_UNANSWERED -> () -> s.faults().answersHeld() > held;
                    case POLLING -> () -> running(s) && lines(work.resolve("results.log")) == results;
                    case EMITTING -> () -> lines(work.resolve("results.log")) > results;
                };
                boolean inPhase = waitFor(p, reached, Duration.ofSeconds(30));
                assertThat(p.isAlive()).as("child died by itself; see %s", work.resolve("child.log")).isTrue();
                if (inPhase) {
                    // the held answers wait for the kill; the others land a moment later, somewhere in the phase
                    if (phase == Phase.SPOOLING || phase == Phase.POLLING || phase == Phase.EMITTING) {
                        Thread.sleep(random.nextInt(40));
                    }
                    landed.merge(phase, 1, Integer::sum);
                } else {
                    missed.add("kill " + k + " (" + phase + ")");
                }
                p.destroyForcibly().waitFor();
            }
            sim.faults().clear();
            LOG.info("crash test ({}): kills landed per phase {}; not reached: {}", store, landed, missed);
            System.out.println("crash test (" + store + ", seed " + seed + "): kills landed per phase " + landed
                               + "; not reached: " + missed);
            // a last life that is not killed: it must finish everything
            Process p = startChild(sim, n, inOrder, jdbcPrefix);
            try {
                long deadline = System.currentTimeMillis() + 120_000;
                while ((distinct(results()).size() < n || !sim.batchIds().stream().allMatch(id -> terminal(sim, id))
                        || sim.stats().filesStored() > 0) && System.currentTimeMillis() < deadline) {
                    assertThat(p.isAlive()).as("child died; see %s", work.resolve("child.log")).isTrue();
                    Thread.sleep(100);
                }
            } finally {
                p.destroyForcibly().waitFor();
            }

            List<String> lines = results();
            Map<String, Integer> counts = distinct(lines);
            for (int i = 0; i < n; i++) {
                assertThat(counts).as("result of r-%d", i).containsKey("r-" + i);
            }
            Map<String, Integer> lastSeqOfBatch = new HashMap<>();
            for (String line : lines) {
                String[] parts = line.split(" ", 4);
                int seq = Integer.parseInt(parts[1]);
                assertThat(parts[0]).isEqualTo("r-" + seq);
                assertThat(parts[3]).isEqualTo("1 + " + seq + " = " + (seq + 1));
                if (inOrder) {
                    // requests were spooled in seq order by one thread: within a batch, seq never goes back
                    Integer before = lastSeqOfBatch.put(parts[2], seq);
                    assertThat(before == null || before <= seq).as("batch %s: %s after %s", parts[2], seq, before)
                            .isTrue();
                }
            }
            long duplicates = lines.size() - counts.size();
            System.out.println("crash test (" + store + ", seed " + seed + "): " + lines.size() + " results for " + n
                               + " requests, " + duplicates + " duplicates over " + kills + " kills");
            assertThat(duplicates).as("duplicates: only the line in flight at a kill may come twice")
                    .isLessThanOrEqualTo(kills);
            ExecutionAudit.assertClean(sim);
            if (kills >= Phase.values().length) {
                for (Phase phase : Phase.values()) {
                    assertThat(landed.getOrDefault(phase, 0)).as("kills that landed while %s (landed: %s)", phase,
                            landed).isPositive();
                }
            }
        }
    }

    /** Waits until the phase is reached (true) or the time is up or the child died (false). */
    private static boolean waitFor(Process p, BooleanSupplier reached, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (reached.getAsBoolean()) {
                return true;
            }
            Thread.sleep(2);
        }
        return false;
    }

    private static boolean running(BatchSimulator sim) {
        return sim.batchIds().stream().anyMatch(id -> {
            String status = sim.batch(id).path("status").asText();
            return status.equals("in_progress") || status.equals("validating");
        });
    }

    private static boolean terminal(BatchSimulator sim, String id) {
        String status = sim.batch(id).path("status").asText();
        return status.equals("completed") || status.equals("failed") || status.equals("expired")
               || status.equals("cancelled");
    }

    private Process startChild(BatchSimulator sim, int n, boolean inOrder, String jdbcPrefix) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), work.toString(), sim.baseUrl(), KEY, Integer.toString(n),
                inOrder ? "inOrder" : "fileOrder", Integer.getInteger("crash.rate", 200).toString()));
        if (jdbcPrefix != null) {
            cmd.addAll(List.of(System.getenv(TestDatabases.URL), System.getenv(TestDatabases.USER),
                    System.getenv(TestDatabases.PASSWORD), jdbcPrefix));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(work.resolve("child.log").toString())));
        return pb.start();
    }

    private static long lines(Path p) {
        try {
            if (!Files.exists(p)) {
                return 0;
            }
            byte[] all = Files.readAllBytes(p);
            long n = 0;
            for (byte b : all) {
                if (b == '\n') {
                    n++;
                }
            }
            return n;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private List<String> results() throws Exception {
        Path p = work.resolve("results.log");
        if (!Files.exists(p)) {
            return List.of();
        }
        // a kill can tear the last line of the results file; keep complete lines only
        String all = Files.readString(p);
        int end = all.lastIndexOf('\n');
        if (end < 0) {
            return List.of();
        }
        return all.substring(0, end).lines().filter(l -> !l.isBlank()).toList();
    }

    private static Map<String, Integer> distinct(List<String> lines) {
        Map<String, Integer> m = new HashMap<>();
        for (String l : lines) {
            m.merge(l.split(" ", 2)[0], 1, Integer::sum);
        }
        return m;
    }
}
