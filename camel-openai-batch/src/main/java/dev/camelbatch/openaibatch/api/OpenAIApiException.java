package dev.camelbatch.openaibatch.api;

import java.time.Duration;

/**
 * The API answered with an error status. Carries the parsed error object
 * ({@code {"error": {"message", "type", "param", "code"}}}) and the {@code x-request-id} header.
 * <p>
 * Use {@link #of} to get the most specific subclass: {@link OpenAIAuthenticationException} (401, 403),
 * {@link OpenAINotFoundException} (404), {@link OpenAIRateLimitException} (429).
 * The message never contains request headers nor the API key.
 */
public class OpenAIApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int httpStatus;
    private final String type;
    private final String code;
    private final String apiMessage;
    private final String param;
    private final String requestId;
    private final Duration retryAfter;

    public OpenAIApiException(int httpStatus, String type, String code, String apiMessage, String param,
                              String requestId, Duration retryAfter) {
        super(describe(httpStatus, type, code, apiMessage, param, requestId));
        this.httpStatus = httpStatus;
        this.type = type;
        this.code = code;
        this.apiMessage = apiMessage;
        this.param = param;
        this.requestId = requestId;
        this.retryAfter = retryAfter;
    }

    /** The most specific exception for the status. */
    public static OpenAIApiException of(int httpStatus, String type, String code, String apiMessage, String param,
                                        String requestId, Duration retryAfter) {
        switch (httpStatus) {
            case 401:
            case 403:
                return new OpenAIAuthenticationException(httpStatus, type, code, apiMessage, param, requestId);
            case 404:
                return new OpenAINotFoundException(type, code, apiMessage, param, requestId);
            case 429:
                return new OpenAIRateLimitException(type, code, apiMessage, param, requestId, retryAfter);
            default:
                return new OpenAIApiException(httpStatus, type, code, apiMessage, param, requestId, retryAfter);
        }
    }

    /** Whether a status is worth retrying: 408, 429 and 5xx. 400, 401, 403, 404, 409, 422... are not. */
    public static boolean isRetryableStatus(int httpStatus) {
        return httpStatus == 408 || httpStatus == 429 || httpStatus >= 500;
    }

    private static String describe(int httpStatus, String type, String code, String apiMessage, String param,
                                   String requestId) {
        StringBuilder sb = new StringBuilder("OpenAI API error ").append(httpStatus);
        if (type != null) {
            sb.append(" type=").append(type);
        }
        if (code != null) {
            sb.append(" code=").append(code);
        }
        if (param != null) {
            sb.append(" param=").append(param);
        }
        if (requestId != null) {
            sb.append(" request-id=").append(requestId);
        }
        if (apiMessage != null && !apiMessage.isEmpty()) {
            sb.append(": ").append(apiMessage);
        }
        return sb.toString();
    }

    public int getHttpStatus() {
        return httpStatus;
    }

    /** The error {@code type}, e.g. {@code invalid_request_error}; may be {@code null}. */
    public String getType() {
        return type;
    }

    /** The error {@code code}, e.g. {@code invalid_api_key}; may be {@code null}. */
    public String getCode() {
        return code;
    }

    /** The error {@code message} as sent by the server (with any occurrence of the API key masked). */
    public String getApiMessage() {
        return apiMessage;
    }

    public String getParam() {
        return param;
    }

    /** The {@code x-request-id} response header, for OpenAI support. */
    public String getRequestId() {
        return requestId;
    }

    /** The server's retry hint, or {@code null}. */
    public Duration getRetryAfter() {
        return retryAfter;
    }

    /** Whether retrying the same call may succeed (408, 429, 5xx). */
    public boolean isRetryable() {
        return isRetryableStatus(httpStatus);
    }
}
