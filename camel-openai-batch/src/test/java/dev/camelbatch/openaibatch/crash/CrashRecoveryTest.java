package dev.camelbatch.openaibatch.crash;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kills a JVM running the whole loop (spool, upload, create, poll, download, emit) with SIGKILL at random moments and
 * restarts it, many times; afterwards every request has its result, no segment attempt was submitted twice, and
 * duplicates stay within the guarantee (at most the line in flight at each kill).
 * <p>
 * Runs {@code crash.runs} kills (default 8 in the normal build; {@code -Dcrash.runs=100} for the full suite).
 */
@Timeout(600)
class CrashRecoveryTest {

    private static final Logger LOG = LoggerFactory.getLogger(CrashRecoveryTest.class);

    @TempDir
    Path work;

    @Test
    void nothingLostNothingPaidTwiceAcrossRandomKills() throws Exception {
        run(false);
    }

    /**
     * The same with {@code emitInOrder=true}: kills also land while a batch's lines are being sorted and while the
     * sorted sequence is emitted; each batch's lines still come in request order (a line repeated after a kill
     * comes again where it was).
     */
    @Test
    void inRequestOrderAcrossRandomKills() throws Exception {
        run(true);
    }

    private void run(boolean inOrder) throws Exception {
        int kills = Integer.getInteger("crash.runs", 8);
        int n = Integer.getInteger("crash.requests", 300);
        long seed = Long.getLong("crash.seed", System.nanoTime());
        LOG.info("crash test: {} kills, {} requests, seed {}", kills, n, seed);
        Random random = new Random(seed);
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-test-crash").port(0)
                .stepDelay(Duration.ofMillis(25)).linesPerStep(15).seed(seed).build().start()) {
            for (int k = 0; k < kills; k++) {
                Process p = startChild(sim, n, inOrder);
                long delay = 300 + random.nextInt(1500);
                boolean exited = p.waitFor(delay, TimeUnit.MILLISECONDS);
                assertThat(exited).as("child died by itself; see %s", work.resolve("child.log")).isFalse();
                p.destroyForcibly().waitFor();
            }
            // a last life that is not killed: it must finish everything
            Process p = startChild(sim, n, inOrder);
            try {
                long deadline = System.currentTimeMillis() + 60_000;
                while (distinct(results()).size() < n && System.currentTimeMillis() < deadline) {
                    assertThat(p.isAlive()).as("child died; see %s", work.resolve("child.log")).isTrue();
                    Thread.sleep(100);
                }
                Thread.sleep(300);
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
            LOG.info("crash test: {} results, {} duplicates over {} kills", lines.size(), duplicates, kills);
            assertThat(duplicates).as("duplicates: only the line in flight at a kill may come twice")
                    .isLessThanOrEqualTo(kills);

            Map<String, Integer> perSegmentAttempt = new HashMap<>();
            for (Map<String, String> md : sim.stats().createdBatchMetadata()) {
                perSegmentAttempt.merge(md.get(BatchEngine.META_SEGMENT) + "/" + md.get(BatchEngine.META_ATTEMPT), 1,
                        Integer::sum);
            }
            assertThat(perSegmentAttempt.values()).as("batches per segment attempt").allMatch(c -> c == 1);
            assertThat(sim.stats().filesStored()).as("remote files left").isZero();
        }
    }

    private Process startChild(BatchSimulator sim, int n, boolean inOrder) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), work.toString(), sim.baseUrl(), "sk-test-crash", Integer.toString(n),
                inOrder ? "inOrder" : "fileOrder");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(work.resolve("child.log").toString())));
        return pb.start();
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
