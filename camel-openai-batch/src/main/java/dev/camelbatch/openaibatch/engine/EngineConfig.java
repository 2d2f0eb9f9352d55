package dev.camelbatch.openaibatch.engine;

import dev.camelbatch.openaibatch.engine.store.BatchStore;

/** Settings of one {@link BatchEngine}; all durations in milliseconds. */
public class EngineConfig {

    /** First (and shortest) interval between two status polls. */
    public long pollInterval = 10_000;
    /** Longest interval between two polls while nothing changes. */
    public long maxPollInterval = 300_000;
    /** Batches submitted and not yet finished, at most. */
    public int maxInFlightBatches = 10;
    /** Age of the oldest request of an open segment before it is sealed; 0 = never by age. */
    public long batchTimeout = 60_000;
    /** Delete the remote input, output and error files once every line is delivered. */
    public boolean deleteFiles = true;
    /**
     * Emit the lines of each batch in the order of its requests (sorted on disk first) rather than in the order of
     * the output and error files.
     */
    public boolean emitInOrder = false;
    /** Bytes of lines sorted in memory at most when emitting in order; more are spilled to sorted runs on disk. */
    public long sortRunBytes = 8L << 20;
    /** Attempts per request (first submission included) for expired and retryable failed requests. */
    public int maxAttempts = 3;
    /** Attempts to create a batch for a segment whose batch failed for reasons that do not name lines. */
    public int maxBatchFailures = 3;
    /** A batch not finished after this long in validating/in_progress/finalizing is reported stuck; 0 = never. */
    public long stuckBatchTimeout = 0;
    /** Cancel a stuck batch and resubmit its requests. */
    public boolean cancelStuckBatches = false;
    /** Cancel the batches in flight when the engine stops. */
    public boolean cancelOnStop = false;
    /** The batch completion window. */
    public String completionWindow = "24h";
    /** Seconds after which the uploaded input file expires (0 = never; OpenAI allows 3600..2592000). */
    public long inputFileExpiresAfter = 0;
    /** How often progress of a running batch is logged at INFO. */
    public long progressLogInterval = 60_000;
    /** Estimated enqueued input tokens allowed per model across batches in flight; 0 = unlimited. */
    public long maxEnqueuedTokens = 0;
    /** Delay before a failed submission (429, 5xx, token limit) is tried again; doubles per failure. */
    public long submitRetryDelay = 5_000;
    /** Longest delay between two submission attempts of a segment. */
    public long maxSubmitRetryDelay = 600_000;
    /**
     * This node's id in the leases of a store shared by several nodes ({@link BatchStore#supportsLeases()}); null =
     * host name, process id and a random part.
     */
    public String nodeId;
    /** How long a lease on a segment lasts unless renewed (renewed every quarter of it). */
    public long leaseDuration = 60_000;
    /** Pages of the batch list read per poll at most (a server that always answers has_more=true ends there). */
    public int maxListPages = dev.camelbatch.openaibatch.api.OpenAIBatchClient.MAX_LIST_PAGES;
}
