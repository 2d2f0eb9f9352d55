package dev.camelbatch.openaibatch.api;

import java.time.Duration;

/**
 * {@code POST /batches} was sent but no usable answer came back (timeout or connection reset after sending, a 5xx, an
 * unreadable 2xx body): the batch may or may not have been created. The client does not retry in that case, so as
 * never to create a batch twice. The caller should reconcile, e.g. by listing recent batches and matching the
 * {@linkplain #getRequest() request}'s metadata and input file id.
 */
public class BatchCreationOutcomeUnknownException extends OutcomeUnknownException {

    private static final long serialVersionUID = 1L;

    private final transient CreateBatchRequest request;

    public BatchCreationOutcomeUnknownException(String message, CreateBatchRequest request, Throwable cause) {
        this(message, request, null, cause);
    }

    public BatchCreationOutcomeUnknownException(String message, CreateBatchRequest request, Duration retryAfter,
            Throwable cause) {
        super(message, retryAfter, cause);
        this.request = request;
    }

    /** The request whose outcome is unknown. */
    public CreateBatchRequest getRequest() {
        return request;
    }
}
