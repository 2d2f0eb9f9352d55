package dev.camelbatch.openaibatch.simulator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which requests each batch executed, in the order they ran, so that a test can tell by content whether the same
 * requests were executed (and paid for) by two batches, whatever labels the batches carried. Recording is on by
 * default ({@link BatchSimulator.Builder#recordExecutions(boolean)}); it keeps every custom id in memory, so long
 * runs of millions of requests (benchmarks) switch it off.
 */
final class ExecutionLog {

    private final boolean enabled;
    private final List<Execution> executions = new ArrayList<>();

    ExecutionLog(boolean enabled) {
        this.enabled = enabled;
    }

    boolean enabled() {
        return enabled;
    }

    synchronized void record(String batchId, MockModel.Outcome o) {
        if (enabled) {
            executions.add(new Execution(batchId, o.customId(), o.statusCode(), o.errorCode()));
        }
    }

    synchronized void clear() {
        executions.clear();
    }

    /** Every execution so far, in order. */
    synchronized List<Execution> all() {
        return List.copyOf(executions);
    }

    /** The executions of each custom id, in order; custom ids in the order they were first executed. */
    synchronized Map<String, List<Execution>> byCustomId() {
        Map<String, List<Execution>> out = new LinkedHashMap<>();
        for (Execution e : executions) {
            out.computeIfAbsent(e.customId(), k -> new ArrayList<>(1)).add(e);
        }
        return out;
    }
}
