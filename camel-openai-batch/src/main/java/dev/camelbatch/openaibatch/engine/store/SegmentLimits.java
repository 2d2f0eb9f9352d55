package dev.camelbatch.openaibatch.engine.store;

/**
 * When an open segment is sealed. The OpenAI Batch API accepts at most 50 000 requests and 200 MB per input file.
 *
 * @param maxRequests  requests per batch (1..50 000)
 * @param maxBytes     bytes per batch file (up to 200 MB)
 * @param maxTokens    estimated input tokens per batch; 0 = no limit
 * @param maxAgeMillis age of the oldest request of an open segment before it is sealed; 0 = no time trigger
 */
public record SegmentLimits(int maxRequests, long maxBytes, long maxTokens, long maxAgeMillis) {

    public static final int HARD_MAX_REQUESTS = 50_000;
    public static final long HARD_MAX_BYTES = 200L * 1024 * 1024;
    public static final long DEFAULT_MAX_BYTES = 190L * 1024 * 1024;

    public SegmentLimits {
        if (maxRequests < 1 || maxRequests > HARD_MAX_REQUESTS) {
            throw new IllegalArgumentException(
                    "maxRequestsPerBatch must be between 1 and " + HARD_MAX_REQUESTS + ", was " + maxRequests);
        }
        if (maxBytes < 1 || maxBytes > HARD_MAX_BYTES) {
            throw new IllegalArgumentException(
                    "maxBatchBytes must be between 1 and " + HARD_MAX_BYTES + " (200 MB), was " + maxBytes);
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxBatchTokens must be >= 0, was " + maxTokens);
        }
        if (maxAgeMillis < 0) {
            throw new IllegalArgumentException("batchTimeout must be >= 0, was " + maxAgeMillis);
        }
    }

    /** Whether one more record would not fit into a segment that holds the given amounts. */
    public boolean wouldOverflow(int count, long bytes, long tokens, int lineBytes, int lineTokens) {
        return count + 1 > maxRequests
                || bytes + lineBytes + 1 > maxBytes
                || (maxTokens > 0 && tokens + lineTokens > maxTokens);
    }

    /** Whether a segment holding the given amounts is full. */
    public boolean isFull(int count, long bytes, long tokens) {
        return count >= maxRequests || bytes >= maxBytes || (maxTokens > 0 && tokens >= maxTokens);
    }
}
