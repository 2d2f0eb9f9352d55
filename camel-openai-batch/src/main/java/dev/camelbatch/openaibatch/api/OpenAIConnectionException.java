package dev.camelbatch.openaibatch.api;

import java.io.IOException;

/**
 * An I/O failure talking to the API (connection refused, reset, timeout, TLS...), thrown once the retries are
 * exhausted or when the failure is not retryable. The cause is the last {@link IOException}.
 */
public class OpenAIConnectionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public OpenAIConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
