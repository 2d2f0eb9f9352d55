package dev.camelbatch.openaibatch.api;

import java.time.Duration;

/**
 * 429: rate limit or quota. Retryable; {@link #getRetryAfter()} is the server's hint, if any. A code of
 * {@code insufficient_quota} (billing) or {@code token_limit_exceeded}-like enqueued-token limits will not clear by
 * waiting a few seconds: look at {@link #getCode()}.
 */
public class OpenAIRateLimitException extends OpenAIApiException {

    private static final long serialVersionUID = 1L;

    public OpenAIRateLimitException(String type, String code, String apiMessage, String param, String requestId,
                                    Duration retryAfter) {
        super(429, type, code, apiMessage, param, requestId, retryAfter);
    }
}
