package dev.camelbatch.openaibatch.api;

/** 401 (bad or missing key) or 403 (no permission, wrong organization/project/region). Not retryable. */
public class OpenAIAuthenticationException extends OpenAIApiException {

    private static final long serialVersionUID = 1L;

    public OpenAIAuthenticationException(int httpStatus, String type, String code, String apiMessage, String param,
                                         String requestId) {
        super(httpStatus, type, code, apiMessage, param, requestId, null);
    }
}
