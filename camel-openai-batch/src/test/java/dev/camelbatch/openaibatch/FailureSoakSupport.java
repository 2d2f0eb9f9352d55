package dev.camelbatch.openaibatch;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import dev.camelbatch.openaibatch.engine.EngineStats;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The soak scenario: N requests spooled as JSONL documents, 30 % of all API calls failing at random (429, 500,
 * connection reset), one batch forced to expire while it runs. Afterwards every request has exactly one outcome
 * (counted by custom id), no segment-attempt was submitted twice and no file is left on the simulator.
 */
abstract class FailureSoakSupport extends FailureTestSupport {

    private static final Logger LOG = LoggerFactory.getLogger(FailureSoakSupport.class);

    /** What a soak run measured. */
    record Figures(int requests, long millis, long apiCalls, long faults, long batchesCreated, long expired,
            EngineStats engine) {
        @Override
        public String toString() {
            return requests + " requests in " + millis + " ms; " + apiCalls + " API calls, " + faults + " failed ("
                   + Math.round(100.0 * faults / Math.max(1, apiCalls)) + " %); " + batchesCreated
                   + " batches created (" + expired + " expired); engine: " + engine.submitFailures.get()
                   + " submission failures, " + engine.pollCalls.get() + " poll calls, " + engine.downloadRetries.get()
                   + " download retries, " + engine.requestsResubmitted.get() + " requests resubmitted, "
                   + engine.filesDeleted.get() + " files deleted";
        }
    }

    protected Figures soak(String name, int n, int perBatch, int maxRetries, Duration timeout) throws Exception {
        startSim(b -> b.stepDelay(Duration.ofMillis(10)).linesPerStep(Math.max(1, perBatch / 5)).seed(20260))
                .faults();
        configureComponent(context, KEY, c -> c.setMaxRetries(maxRetries));
        mockOut = false;
        addRoutesAndStart(routes(name, "maxRequestsPerBatch=" + perBatch + "&batchTimeout=200",
                "maxInFlightBatches=10"));
        FailureRemoteErrorsTest.thirtyPercentFaults(sim);

        long start = System.currentTimeMillis();
        List<String> ids = new ArrayList<>(n);
        // a document's lines go into segments of their own: documents of at least a batch each
        int documentLines = Math.max(1000, perBatch);
        for (int from = 0; from < n; from += documentLines) {
            StringBuilder doc = new StringBuilder();
            for (int k = from; k < Math.min(n, from + documentLines); k++) {
                String id = name + "-" + k;
                ids.add(id);
                doc.append("{\"custom_id\":\"").append(id).append("\",\"method\":\"POST\",")
                        .append("\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[{\"role\":\"user\",")
                        .append("\"content\":\"Calculate: 1 + ").append(k).append(" = \"}]}}\n");
            }
            Exchange ex = template.request("direct:in",
                    e -> e.getMessage().setBody(doc.toString().getBytes(StandardCharsets.UTF_8)));
            assertThat(ex.getException()).isNull();
        }

        // one batch expires while it runs (some of its requests done, some not)
        String expired = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(2))
                .until(this::expireOneRunning, id -> id != null);

        await().atMost(timeout).pollInterval(Duration.ofMillis(100)).until(() -> outcomes.total() >= n);
        awaitIdle(context, Duration.ofSeconds(60));
        long millis = System.currentTimeMillis() - start;

        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).isEmpty();
        List<String> wrong = outcomes.results().stream().filter(o -> !answer(o.customId()).equals(o.body()))
                .map(Outcome::customId).limit(10).toList();
        assertThat(wrong).as("results with a wrong answer").isEmpty();
        Map<Integer, Long> byAttempt = outcomes.results().stream()
                .collect(Collectors.groupingBy(Outcome::attempt, Collectors.counting()));
        assertThat(byAttempt.get(2)).as("requests of the expired batch finished by attempt 2").isPositive();
        assertThat(status(expired)).isEqualTo("expired");
        assertNoSegmentAttemptSubmittedTwice();
        assertNoFilesLeft();

        long faults = sim.faults().injected().values().stream().mapToLong(Long::longValue).sum();
        Figures f = new Figures(n, millis, sim.stats().totalCalls(), faults, sim.stats().batchesCreated(),
                sim.stats().batchesByStatus().get("expired"), engine().stats());
        assertThat(f.expired()).isEqualTo(1);
        assertThat((double) faults / f.apiCalls()).isBetween(0.2, 0.4);
        LOG.info("Soak {}: {}; results by attempt {}", name, f, byAttempt);
        System.out.println("Soak " + name + ": " + f + "; results by attempt " + byAttempt);
        return f;
    }

    /**
     * Expires a batch that has done some but not all of its requests; the batch id, or null if none right now. A
     * running batch is held (made stuck) while it is looked at, so that its state cannot move on meanwhile.
     */
    private String expireOneRunning() {
        for (String id : sim.batchIds()) {
            if (!"in_progress".equals(status(id))) {
                continue;
            }
            sim.makeStuck(id);
            var b = sim.batch(id);
            int done = b.path("request_counts").path("completed").asInt();
            int total = b.path("request_counts").path("total").asInt();
            if ("in_progress".equals(b.path("status").asText()) && done > 0 && done < total) {
                sim.expireBatch(id);
                return id;
            }
            sim.unstuck(id);
        }
        return null;
    }
}
