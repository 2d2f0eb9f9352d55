package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One line of a batch output or error file ({@code BatchRequestOutput}):
 * {@code {"id": "...", "custom_id": "...", "response": {"status_code": 200, "request_id": "...", "body": {...}},
 * "error": null}}. {@code response} and {@code error} are nullable and written even when {@code null}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"id", "custom_id", "response", "error"})
public class BatchOutputLine {

    @JsonProperty("id")
    private String id;
    @JsonProperty("custom_id")
    private String customId;
    @JsonProperty("response")
    private Response response;
    @JsonProperty("error")
    private Error error;

    public BatchOutputLine() {
    }

    /** Parses one JSONL line. */
    public static BatchOutputLine parse(String jsonLine) {
        return OpenAIJson.fromJsonLine(jsonLine, BatchOutputLine.class);
    }

    /** This line as compact JSON without a trailing newline. */
    public String toJsonLine() {
        return OpenAIJson.toJsonLine(this);
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public String getCustomId() {
        return customId;
    }

    public void setCustomId(String customId) {
        this.customId = customId;
    }

    public Response getResponse() {
        return response;
    }

    public void setResponse(Response response) {
        this.response = response;
    }

    public Error getError() {
        return error;
    }

    public void setError(Error error) {
        this.error = error;
    }

    /** Whether the request succeeded: a response with a 2xx status code and no error. */
    @JsonIgnore
    public boolean isSuccess() {
        return error == null && response != null && response.getStatusCode() != null
                && response.getStatusCode() >= 200 && response.getStatusCode() < 300;
    }

    @Override
    public String toString() {
        return "BatchOutputLine{id=" + id + ", custom_id=" + customId + ", status_code="
                + (response == null ? null : response.getStatusCode()) + ", error=" + error + '}';
    }

    /** The HTTP response of one request. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonPropertyOrder({"status_code", "request_id", "body"})
    public static class Response {
        @JsonProperty("status_code")
        private Integer statusCode;
        @JsonProperty("request_id")
        private String requestId;
        @JsonProperty("body")
        private JsonNode body;

        public Response() {
        }

        public Response(Integer statusCode, String requestId, JsonNode body) {
            this.statusCode = statusCode;
            this.requestId = requestId;
            this.body = body;
        }

        public Integer getStatusCode() {
            return statusCode;
        }

        public void setStatusCode(Integer statusCode) {
            this.statusCode = statusCode;
        }

        public String getRequestId() {
            return requestId;
        }

        public void setRequestId(String requestId) {
            this.requestId = requestId;
        }

        public JsonNode getBody() {
            return body;
        }

        public void setBody(JsonNode body) {
            this.body = body;
        }
    }

    /** A non-HTTP failure of one request. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class Error {
        @JsonProperty("code")
        private String code;
        @JsonProperty("message")
        private String message;

        public Error() {
        }

        public Error(String code, String message) {
            this.code = code;
            this.message = message;
        }

        public String getCode() {
            return code;
        }

        public void setCode(String code) {
            this.code = code;
        }

        public String getMessage() {
            return message;
        }

        public void setMessage(String message) {
            this.message = message;
        }

        @Override
        public String toString() {
            return "{code=" + code + ", message=" + message + '}';
        }
    }
}
