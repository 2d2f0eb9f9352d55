package dev.camelbatch.openaibatch.failover;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.ExecutionAudit;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Camel's own cluster service instead of the JDBC store: two nodes (child JVMs) share the file store on one
 * directory (a shared volume), and run the routes that use it only while they lead ({@code ClusteredRoutePolicy}
 * with camel-file's {@code FileLockClusterService}). The leader is killed with SIGKILL; the other node becomes the
 * leader, opens the store and finishes: every request has its result, no segment attempt was submitted twice.
 */
@Timeout(600)
class ClusteredFileStoreTest {

    private static final Logger LOG = LoggerFactory.getLogger(ClusteredFileStoreTest.class);
    private static final int N = 50;

    @TempDir
    Path shared;

    @Test
    void theStandbyTakesOverWhenTheLeaderDies() throws Exception {
        Path inbox = Files.createDirectories(shared.resolve("inbox"));
        for (int i = 0; i < N; i++) {
            Path tmp = shared.resolve(String.format("req-%02d.txt.tmp", i));
            Files.writeString(tmp, "Calculate: 1 + " + i + " = ");
            Files.move(tmp, inbox.resolve(String.format("req-%02d.txt", i)));
        }
        List<Process> nodes = new ArrayList<>();
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-test-cluster").port(0)
                .stepDelay(Duration.ofMillis(25)).linesPerStep(5).seed(5).build().start()) {
            nodes.add(start(sim, "1"));
            nodes.add(start(sim, "2"));
            String leader = null;
            long deadline = System.currentTimeMillis() + 60_000;
            while (leader == null) {
                for (String label : new String[] { "1", "2" }) {
                    // mid-batch (batches of 10): a kill between the deletion of a batch's remote files and the
                    // completion of its segment leaves the next leader downloading a file that is gone (an engine
                    // limitation of its own, not what this test is about)
                    if (JdbcFailoverTest.lines(shared.resolve("results-" + label + ".log")).size() >= 5) {
                        leader = label;
                    }
                }
                assertThat(System.currentTimeMillis()).as("a leader delivers results").isLessThan(deadline);
                Thread.sleep(10);
            }
            String standby = leader.equals("1") ? "2" : "1";
            assertThat(JdbcFailoverTest.lines(shared.resolve("results-" + standby + ".log")))
                    .as("the standby runs nothing while the leader lives").isEmpty();
            Process killed = nodes.get(Integer.parseInt(leader) - 1);
            killed.destroyForcibly().waitFor();
            LOG.info("cluster test: killed leader {}; node {} should take over", leader, standby);

            deadline = System.currentTimeMillis() + 60_000;
            while (distinct(results()).size() < N) {
                assertThat(nodes.get(Integer.parseInt(standby) - 1).isAlive())
                        .as("node %s died; see %s", standby, shared.resolve("child-" + standby + ".log")).isTrue();
                assertThat(System.currentTimeMillis()).as("all results within 60 s (%s of %s)",
                        distinct(results()).size(), N).isLessThan(deadline);
                Thread.sleep(50);
            }
            List<String> lines = results();
            Map<String, Integer> counts = distinct(lines);
            for (int i = 0; i < N; i++) {
                assertThat(counts).containsKey(String.format("req-%02d.txt", i));
            }
            for (String l : lines) {
                String[] p = l.split(" ", 2);
                int i = Integer.parseInt(p[0].substring(4, 6));
                assertThat(p[1]).isEqualTo("1 + " + i + " = " + (i + 1));
            }
            assertThat(JdbcFailoverTest.lines(shared.resolve("results-" + standby + ".log"))).isNotEmpty();
            assertThat(lines.size() - counts.size()).as("duplicates (the line in flight at the kill)")
                    .isLessThanOrEqualTo(1);
            // by label (one batch per segment attempt) and by content (no request executed by two batches)
            ExecutionAudit.assertNoRequestExecutedTwice(sim);
            ExecutionAudit.assertOneBatchPerSegmentAttempt(sim);
        } finally {
            for (Process p : nodes) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    private Process start(BatchSimulator sim, String label) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                ClusterChild.class.getName(), shared.toString(), label, sim.baseUrl(), "sk-test-cluster");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(shared.resolve("child-" + label + ".log")
                .toString())));
        return pb.start();
    }

    private List<String> results() {
        List<String> all = new ArrayList<>(JdbcFailoverTest.lines(shared.resolve("results-1.log")));
        all.addAll(JdbcFailoverTest.lines(shared.resolve("results-2.log")));
        return all;
    }

    private static Map<String, Integer> distinct(List<String> lines) {
        Map<String, Integer> m = new HashMap<>();
        for (String l : lines) {
            m.merge(l.split(" ", 2)[0], 1, Integer::sum);
        }
        return m;
    }
}
