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
    TRUNCATED_DOWNLOAD,
    /**
     * The call is carried out (a file is stored, a batch created, cancelled or deleted), then the connection is
     * closed before any response is sent: the call took effect, but its answer is lost.
     */
    LOST_RESPONSE,
    /**
     * The call is carried out, then answered HTTP 500 with OpenAI's {@code server_error} body instead of its real
     * answer: the call took effect, but the client is told it failed.
     */
    SERVER_ERROR_AFTER_EFFECT,
    /**
     * The call is carried out, then its answer is held for {@link FaultInjector#slowResponseDelay()} before it is
     * sent ({@link FaultInjector#answersHeld()} counts the holds as they begin): a test kills the client while the
     * call has taken effect and the client does not know it yet.
     */
    HELD_ANSWER;

    /** Whether the call is carried out before the fault hits (lost, replaced or held answers). */
    public boolean afterEffect() {
        return this == LOST_RESPONSE || this == SERVER_ERROR_AFTER_EFFECT || this == HELD_ANSWER;
    }
}
