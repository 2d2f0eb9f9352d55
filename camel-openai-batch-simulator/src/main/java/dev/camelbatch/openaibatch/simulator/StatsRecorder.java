package dev.camelbatch.openaibatch.simulator;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Live counters behind {@link SimulatorStats}. */
final class StatsRecorder {

    private final Map<String, LongAdder> callsByRoute = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> pollsByBatch = new ConcurrentHashMap<>();
    private final AtomicLong totalCalls = new AtomicLong();
    private final AtomicLong batchesCreated = new AtomicLong();
    private final List<Map<String, String>> createdMetadata = new CopyOnWriteArrayList<>();

    void call(String routeKey) {
        totalCalls.incrementAndGet();
        callsByRoute.computeIfAbsent(routeKey, k -> new LongAdder()).increment();
    }

    void poll(String batchId) {
        pollsByBatch.computeIfAbsent(batchId, k -> new LongAdder()).increment();
    }

    void batchCreated(Map<String, String> metadata) {
        batchesCreated.incrementAndGet();
        createdMetadata.add(metadata == null ? Map.of() : Map.copyOf(metadata));
    }

    void reset() {
        callsByRoute.clear();
        pollsByBatch.clear();
        totalCalls.set(0);
        batchesCreated.set(0);
        createdMetadata.clear();
    }

    SimulatorStats snapshot(Map<String, Long> batchesByStatus, int filesStored, long bytesStored) {
        return new SimulatorStats(toMap(callsByRoute), totalCalls.get(), toMap(pollsByBatch), batchesCreated.get(),
                batchesByStatus, filesStored, bytesStored, List.copyOf(createdMetadata));
    }

    private static Map<String, Long> toMap(Map<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
