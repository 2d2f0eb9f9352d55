package dev.camelbatch.openaibatch.engine;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;

/**
 * A change in the life of a batch, for monitoring routes ({@code batchEvents=true}), logs and metrics.
 *
 * @param type    what happened
 * @param segment the segment's state after the change
 * @param batch   the batch as last read from the API, or {@code null}
 * @param message a human-readable summary
 */
public record BatchEvent(Type type, SegmentInfo segment, Batch batch, String message) {

    public enum Type {
        SEALED,
        SUBMITTED,
        PROGRESS,
        COMPLETED,
        EXPIRED,
        FAILED,
        CANCELLED,
        STUCK,
        RESUBMITTED,
        DONE
    }
}
