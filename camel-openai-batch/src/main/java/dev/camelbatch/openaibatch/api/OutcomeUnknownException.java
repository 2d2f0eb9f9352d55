package dev.camelbatch.openaibatch.api;

import java.time.Duration;

/**
 * A call that changes state at the service ({@code POST /files}, {@code POST /batches}) was sent, but no usable answer
 * came back: the connection was lost or timed out after sending, the answer was a 5xx, or a 2xx body could not be
 * read. The call may or may not have taken effect, so the client does not repeat it: the caller reconciles first
 * (looks for the file by its filename, the batch by its metadata) and only sends it again when nothing is found.
 */
public class OutcomeUnknownException extends OpenAIConnectionException {

    private static final long serialVersionUID = 1L;

    private final transient Duration retryAfter;

    public OutcomeUnknownException(String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.retryAfter = retryAfter;
    }

    /** How long the service asked to wait before the next call ({@code Retry-After} of a 5xx), or {@code null}. */
    public Duration getRetryAfter() {
        return retryAfter;
    }
}
