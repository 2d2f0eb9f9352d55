package dev.camelbatch.openaibatch;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import dev.camelbatch.openaibatch.engine.EngineStats;
import dev.camelbatch.openaibatch.simulator.Fault;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The soak scenario: N requests spooled as JSONL documents, API calls failing at random ({@link Faults}), one batch
 * forced to expire while it runs. Afterwards every request has exactly one outcome (counted by custom id), no
 * segment-attempt was submitted twice, no request was executed by two batches (by content) and no file is left on
 * the simulator.
 */
abstract class FailureSoakSupport extends FailureTestSupport {

    private static final Logger LOG = LoggerFactory.getLogger(FailureSoakSupport.class);

    /** What a soak run measured. */
    record Figures(int requests, long millis, long apiCalls, long faults, long batchesCreated, long expired,
            EngineStats engine) {
        @Override
        public String toString() {
            return requests + " requests in " + millis + " ms; " + apiCalls + " API calls, " + faults + " failed; "
                   + batchesCreated
                   + " batches created (" + expired + " expired); engine: " + engine.submitFailures.get()
                   + " submission failures, " + engine.pollCalls.get() + " poll calls, " + engine.downloadRetries.get()
                   + " download retries, " + engine.requestsResubmitted.get() + " requests resubmitted, "
                   + engine.filesDeleted.get() + " files deleted, " + engine.outcomesReconciled.get()
                   + " lookups after an unknown outcome, " + engine.remoteCopiesAdopted.get()
                   + " uploads or batches found by them, " + engine.extraUploadsDeleted.get()
                   + " extra uploads deleted";
        }
    }

    /** Which calls fail, and how. Both plans also cut the first two downloads and 5 % of the others short. */
    enum Faults {
        /** 30 % of all calls fail before they are handled: 429, 500, connection reset (10 % each). */
        BEFORE_EFFECT,
        /**
         * 30 % of the answers of every POST and DELETE (upload, create, cancel, delete) are lost after the call took
         * effect: the connection closes, or a 500 comes instead of the answer.
         */
        LOST_ANSWERS
    }

    protected Figures soak(String name, int n, int perBatch, int maxRetries, Duration timeout) throws Exception {
        return soak(name, n, perBatch, maxRetries, timeout, Faults.BEFORE_EFFECT);
    }

    protected Figures soak(String name, int n, int perBatch, int maxRetries, Duration timeout, Faults plan)
            throws Exception {
        startSim(b -> b.stepDelay(Duration.ofMillis(10)).linesPerStep(Math.max(1, perBatch / 5)).seed(20260))
                .faults();
        configureComponent(context, KEY, c -> c.setMaxRetries(maxRetries));
        mockOut = false;
        addRoutesAndStart(routes(name, "maxRequestsPerBatch=" + perBatch + "&batchTimeout=200",
                "maxInFlightBatches=10"));
        sim.faults().nextCalls("GET /v1/files/*/content", 2, Fault.TRUNCATED_DOWNLOAD)
                .probability("GET /v1/files/*/content", 0.05, Fault.TRUNCATED_DOWNLOAD);
        if (plan == Faults.BEFORE_EFFECT) {
            FailureRemoteErrorsTest.thirtyPercentFaults(sim);
        } else {
            sim.faults().lostAnswers(0.30);
        }

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

        Map<Fault, Long> injected = sim.faults().injected();
        long faults = injected.entrySet().stream().filter(e -> e.getKey() != Fault.TRUNCATED_DOWNLOAD)
                .mapToLong(Map.Entry::getValue).sum();
        // the calls the plan faults: every call, or the state-changing ones
        long faultable = plan == Faults.BEFORE_EFFECT ? sim.stats().totalCalls()
                : sim.stats().calls("POST /v1/files") + sim.stats().calls("DELETE /v1/files/{id}")
                  + sim.stats().calls("POST /v1/batches") + sim.stats().calls("POST /v1/batches/{id}/cancel");
        Figures f = new Figures(n, millis, sim.stats().totalCalls(), faults, sim.stats().batchesCreated(),
                sim.stats().batchesByStatus().get("expired"), engine().stats());
        assertThat(f.expired()).isEqualTo(1);
        assertThat((double) faults / faultable).as("share of faulted calls").isBetween(0.2, 0.4);
        assertThat(injected.getOrDefault(Fault.TRUNCATED_DOWNLOAD, 0L)).as("downloads cut short").isPositive();
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
