package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An API error that is rendered as OpenAI's error shape: {@code {"error":{message,type,param,code}}}; Azure OpenAI's
 * access errors have a shape of their own, {@code {"error":{code,message}}} ({@link #azureAccessDenied}).
 */
final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;
    final String code;
    private final boolean azureShape;

    ApiException(int status, String message, String type, String param, String code) {
        this(status, message, type, param, code, false);
    }

    private ApiException(int status, String message, String type, String param, String code, boolean azureShape) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.azureShape = azureShape;
    }

    /** A 401 as Azure OpenAI answers it: {@code {"error":{"code":"401","message":...}}}. */
    static ApiException azureAccessDenied(String message) {
        return new ApiException(401, message, null, null, "401", true);
    }

    static ApiException badRequest(String message, String param, String code) {
        return new ApiException(400, message, "invalid_request_error", param, code);
    }

    static ApiException notFound(String message, String param) {
        return new ApiException(404, message, "invalid_request_error", param, null);
    }

    ObjectNode toJson() {
        if (azureShape) {
            ObjectNode root = Json.object();
            root.putObject("error").put("code", code).put("message", getMessage());
            return root;
        }
        return errorBody(getMessage(), type, param, code);
    }

    static ObjectNode errorBody(String message, String type, String param, String code) {
        ObjectNode root = Json.object();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        Json.putString(error, "param", param);
        Json.putString(error, "code", code);
        return root;
    }
}
