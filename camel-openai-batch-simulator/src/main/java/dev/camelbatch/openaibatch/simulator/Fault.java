package dev.camelbatch.openaibatch.simulator;

/** Faults that {@link FaultInjector} can inject into HTTP calls. */
public enum Fault {
    /** HTTP 429 with {@code Retry-After: 1}, {@code retry-after-ms: 1000} and OpenAI's rate-limit error body. */
    RATE_LIMIT_429,
    /** HTTP 500 with OpenAI's {@code server_error} body. */
    SERVER_ERROR_500,
    /** The connection is closed without any response (the handler aborts before sending the status line). */
    CONNECTION_RESET,
    /** The call is answered normally, but only after {@link FaultInjector#slowResponseDelay()}. */
    SLOW_RESPONSE,
    /**
     * The response announces the full {@code Content-Length} but only about half of the body is sent before the
     * connection is closed. Meant for {@code GET /v1/files/{id}/content}; works on any route.
     */
    TRUNCATED_DOWNLOAD
}
