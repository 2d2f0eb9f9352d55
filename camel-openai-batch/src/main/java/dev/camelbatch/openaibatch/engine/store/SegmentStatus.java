package dev.camelbatch.openaibatch.engine.store;

/**
 * Life cycle of a segment: the unit of requests that becomes exactly one batch.
 *
 * <pre>
 * OPEN -> SEALED -> UPLOADING -> UPLOADED -> CREATING -> SUBMITTED -> FINISHED -> DONE
 *                      ^  (crash: reconcile by filename)  ^ (crash: reconcile by metadata)
 * </pre>
 *
 * A segment in {@link #UPLOADING} or {@link #CREATING} had an operation in flight when its state was last written:
 * the engine reconciles with the remote service (looks for the file by name, the batch by metadata) before acting
 * again, so that a segment is never submitted twice.
 */
public enum SegmentStatus {
    /** Holding the lines of a JSONL document being spooled; invisible until the document is committed. */
    STAGING,
    /** Accepting requests. */
    OPEN,
    /** Closed for new requests, waiting for submission. */
    SEALED,
    /** Upload of the input file started (outcome not yet recorded). */
    UPLOADING,
    /** Input file uploaded, id recorded. */
    UPLOADED,
    /** Batch creation started (outcome not yet recorded). */
    CREATING,
    /** Batch created and being polled. */
    SUBMITTED,
    /** Batch reached a terminal status; its output and error lines are being emitted. */
    FINISHED,
    /** Every line delivered and the files cleaned up; only a compact record is left. */
    DONE;

    public boolean isInFlight() {
        return this == UPLOADING || this == UPLOADED || this == CREATING || this == SUBMITTED;
    }
}
