package dev.camelbatch.openaibatch.engine.store;

/**
 * Why a segment was sealed. {@link #value()} is what the segment records ({@link SegmentInfo#getSealReason()}), what
 * the dev console and the batch events show, and what a store persists.
 */
public enum SealReason {
    /** It holds {@code maxRequestsPerBatch} requests (or the next one would exceed it). */
    MAX_REQUESTS("maxRequestsPerBatch"),
    /** Its file reached {@code maxBatchBytes}. */
    MAX_BYTES("maxBatchBytes"),
    /** Its estimated input tokens reached {@code maxBatchTokens}. */
    MAX_TOKENS("maxBatchTokens"),
    /** Its oldest request is {@code batchTimeout} old. */
    BATCH_TIMEOUT("batchTimeout"),
    /** A flush: the header, {@code operation=flush}, {@code flushOnSplitComplete}, a flushed document. */
    FLUSH("flush"),
    /** The end of a JSONL document ({@code flushOnDocumentEnd}, or a document's full segments). */
    DOCUMENT_END("documentEnd"),
    /** {@code operation=submit} sends it at once. */
    SUBMIT("submit"),
    /** The store found it open beside a newer open segment of its group after a crash. */
    RECOVERED("recovered"),
    /** It holds requests resubmitted from another segment (its {@code parentId}). */
    RETRY("retry");

    private final String value;

    SealReason(String value) {
        this.value = value;
    }

    /** The recorded form, e.g. {@code maxRequestsPerBatch}. */
    public String value() {
        return value;
    }

    /**
     * The limit a segment holding {@code count} requests, {@code bytes} bytes reaches first: before a record of
     * {@code nextBytes}/{@code nextTokens} is added, or ({@code 0, 0}) because it is full.
     */
    public static SealReason limitReached(SegmentLimits limits, long count, long bytes, int nextBytes) {
        if (count + (nextBytes > 0 ? 1 : 0) > limits.maxRequests() || count >= limits.maxRequests()) {
            return MAX_REQUESTS;
        }
        if (bytes + nextBytes + (nextBytes > 0 ? 1 : 0) > limits.maxBytes() || bytes >= limits.maxBytes()) {
            return MAX_BYTES;
        }
        return MAX_TOKENS;
    }

    /**
     * Why a segment of a JSONL document is sealed when the document is committed: the limit it reached while the
     * document was written ({@code reached}), else the flush that came with the document, else the document's end.
     */
    public static SealReason atCommit(SealReason reached, boolean flush) {
        return reached != null ? reached : flush ? FLUSH : DOCUMENT_END;
    }

    @Override
    public String toString() {
        return value;
    }
}
