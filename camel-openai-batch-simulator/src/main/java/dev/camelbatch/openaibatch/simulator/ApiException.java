package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** An API error that is rendered as OpenAI's error shape: {@code {"error":{message,type,param,code}}}. */
final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;
    final String code;

    ApiException(int status, String message, String type, String param, String code) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    static ApiException badRequest(String message, String param, String code) {
        return new ApiException(400, message, "invalid_request_error", param, code);
    }

    static ApiException notFound(String message, String param) {
        return new ApiException(404, message, "invalid_request_error", param, null);
    }

    ObjectNode toJson() {
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
