package dev.camelbatch.openaibatch;

import java.util.List;

import org.apache.camel.RuntimeCamelException;

/** An explicit producer operation (submit, retrieve, wait, ...) could not be carried out; the message says why. */
public class OpenAIBatchOperationException extends RuntimeCamelException {

    private static final long serialVersionUID = 1L;

    /** Why an operation failed. */
    public enum Reason {
        /** A required header (the batch id) is missing. */
        MISSING_HEADER,
        /** A header, option or body has a value the operation cannot use. */
        INVALID_INPUT,
        /** The API does not know the batch (HTTP 404). */
        NOT_FOUND,
        /** The batch has not reached a terminal status yet. */
        NOT_FINISHED,
        /** The batch is in a state that forbids the operation (e.g. cancelling a completed batch). */
        CONFLICT,
        /** submit created some of its batches only; {@link #getBatchIds()} lists those created. */
        PARTIALLY_SUBMITTED,
        /** submit created none of its batches. */
        SUBMIT_FAILED,
        /**
         * submit sent a create call whose outcome is unknown (no usable answer, or its batch could not be recorded):
         * the batch may exist. {@link #getBatchIds()} lists the batches known to be created; a tracked submission
         * leaves the segment to the engine, which reconciles it and submits it only if no batch exists.
         */
        OUTCOME_UNKNOWN
    }

    private final OpenAIBatchOperation operation;
    private final Reason reason;
    private final List<String> batchIds;

    public OpenAIBatchOperationException(OpenAIBatchOperation operation, Reason reason, String message) {
        this(operation, reason, message, null, List.of());
    }

    public OpenAIBatchOperationException(OpenAIBatchOperation operation, Reason reason, String message,
                                         Throwable cause) {
        this(operation, reason, message, cause, List.of());
    }

    public OpenAIBatchOperationException(OpenAIBatchOperation operation, Reason reason, String message,
                                         Throwable cause, List<String> batchIds) {
        super(operation + ": " + message, cause);
        this.operation = operation;
        this.reason = reason;
        this.batchIds = List.copyOf(batchIds);
    }

    public OpenAIBatchOperation getOperation() {
        return operation;
    }

    public Reason getReason() {
        return reason;
    }

    /** submit: the ids of the batches created before the failure (they exist and run); empty otherwise. */
    public List<String> getBatchIds() {
        return batchIds;
    }
}
