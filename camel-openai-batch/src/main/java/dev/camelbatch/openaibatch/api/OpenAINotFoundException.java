package dev.camelbatch.openaibatch.api;

/** 404: the file or batch does not exist (or is not visible to this key). Not retryable. */
public class OpenAINotFoundException extends OpenAIApiException {

    private static final long serialVersionUID = 1L;

    public OpenAINotFoundException(String type, String code, String apiMessage, String param, String requestId) {
        super(404, type, code, apiMessage, param, requestId, null);
    }
}
