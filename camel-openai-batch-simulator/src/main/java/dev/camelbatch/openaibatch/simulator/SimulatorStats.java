package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of the simulator's counters (since start or the last {@link BatchSimulator#reset()}).
 *
 * <p>Route keys use the canonical OpenAI form in both modes, with {@code {id}} for identifiers:
 * {@code "POST /v1/files"}, {@code "GET /v1/files"}, {@code "GET /v1/files/{id}"}, {@code "DELETE /v1/files/{id}"},
 * {@code "GET /v1/files/{id}/content"}, {@code "POST /v1/batches"}, {@code "GET /v1/batches"},
 * {@code "GET /v1/batches/{id}"}, {@code "POST /v1/batches/{id}/cancel"}; calls to any other path are counted under
 * {@code "<METHOD> <unknown>"}. The admin routes ({@code /__simulator/...}) are not counted. Every call is counted,
 * including ones answered with an error or a fault.
 */
public final class SimulatorStats {

    private final Map<String, Long> callsByRoute;
    private final long totalCalls;
    private final Map<String, Long> pollsByBatch;
    private final long batchesCreated;
    private final Map<String, Long> batchesByStatus;
    private final int filesStored;
    private final long bytesStored;
    private final List<Map<String, String>> createdBatchMetadata;

    SimulatorStats(Map<String, Long> callsByRoute, long totalCalls, Map<String, Long> pollsByBatch, long batchesCreated,
            Map<String, Long> batchesByStatus, int filesStored, long bytesStored,
            List<Map<String, String>> createdBatchMetadata) {
        this.callsByRoute = Collections.unmodifiableMap(callsByRoute);
        this.totalCalls = totalCalls;
        this.pollsByBatch = Collections.unmodifiableMap(pollsByBatch);
        this.batchesCreated = batchesCreated;
        this.batchesByStatus = Collections.unmodifiableMap(new LinkedHashMap<>(batchesByStatus));
        this.filesStored = filesStored;
        this.bytesStored = bytesStored;
        this.createdBatchMetadata = createdBatchMetadata;
    }

    /** Calls per route key, e.g. {@code "GET /v1/batches/{id}" -> 12}. */
    public Map<String, Long> callsByRoute() {
        return callsByRoute;
    }

    /** Calls of one route key, 0 if none. */
    public long calls(String routeKey) {
        return callsByRoute.getOrDefault(routeKey, 0L);
    }

    public long totalCalls() {
        return totalCalls;
    }

    /** {@code GET /v1/batches/{id}} calls per batch id. */
    public Map<String, Long> pollsByBatch() {
        return pollsByBatch;
    }

    /** Batches successfully created via {@code POST /v1/batches}. */
    public long batchesCreated() {
        return batchesCreated;
    }

    /** Current number of batches in each status (every status is present, 0 if none). */
    public Map<String, Long> batchesByStatus() {
        return batchesByStatus;
    }

    /** Files currently stored (uploads and batch output/error files). */
    public int filesStored() {
        return filesStored;
    }

    /** Total size of the stored files. */
    public long bytesStored() {
        return bytesStored;
    }

    /** How many batches were created whose {@code metadata[key]} equals {@code value}. */
    public long batchesCreatedByMetadata(String key, String value) {
        return createdBatchMetadata.stream().filter(m -> value != null && value.equals(m.get(key))).count();
    }

    /** The metadata of every created batch, in creation order (empty map for none). */
    public List<Map<String, String>> createdBatchMetadata() {
        return createdBatchMetadata;
    }

    /** The JSON served at {@code GET /__simulator/stats}. */
    public ObjectNode toJson() {
        ObjectNode n = Json.object();
        n.put("totalCalls", totalCalls);
        ObjectNode calls = n.putObject("callsByRoute");
        callsByRoute.forEach(calls::put);
        ObjectNode polls = n.putObject("pollsByBatch");
        pollsByBatch.forEach(polls::put);
        n.put("batchesCreated", batchesCreated);
        ObjectNode statuses = n.putObject("batchesByStatus");
        batchesByStatus.forEach(statuses::put);
        n.put("filesStored", filesStored);
        n.put("bytesStored", bytesStored);
        ArrayNode md = n.putArray("createdBatchMetadata");
        createdBatchMetadata.forEach(m -> {
            ObjectNode o = md.addObject();
            m.forEach(o::put);
        });
        return n;
    }

    @Override
    public String toString() {
        return Json.string(toJson());
    }
}
