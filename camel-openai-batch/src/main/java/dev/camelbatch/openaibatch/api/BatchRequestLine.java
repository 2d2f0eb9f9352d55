package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One line of a batch input file ({@code BatchRequestInput}):
 * {@code {"custom_id": "...", "method": "POST", "url": "/v1/chat/completions", "body": {...}}}.
 * Write it with {@link #toJsonLine()}, read it with {@link #parse(String)}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"custom_id", "method", "url", "body"})
public class BatchRequestLine {

    @JsonProperty("custom_id")
    private String customId;
    @JsonProperty("method")
    private String method = "POST";
    @JsonProperty("url")
    private String url;
    @JsonProperty("body")
    private JsonNode body;

    public BatchRequestLine() {
    }

    public BatchRequestLine(String customId, String method, String url, JsonNode body) {
        this.customId = customId;
        this.method = method;
        this.url = url;
        this.body = body;
    }

    /** A {@code POST} line. */
    public static BatchRequestLine of(String customId, String url, JsonNode body) {
        return new BatchRequestLine(customId, "POST", url, body);
    }

    /** Parses one JSONL line. */
    public static BatchRequestLine parse(String jsonLine) {
        return OpenAIJson.fromJsonLine(jsonLine, BatchRequestLine.class);
    }

    /** This line as compact JSON without a trailing newline. */
    public String toJsonLine() {
        return OpenAIJson.toJsonLine(this);
    }

    public String getCustomId() {
        return customId;
    }

    public void setCustomId(String customId) {
        this.customId = customId;
    }

    public String getMethod() {
        return method;
    }

    public void setMethod(String method) {
        this.method = method;
    }

    public String getUrl() {
        return url;
    }

    public void setUrl(String url) {
        this.url = url;
    }

    public JsonNode getBody() {
        return body;
    }

    public void setBody(JsonNode body) {
        this.body = body;
    }

    @Override
    public String toString() {
        return "BatchRequestLine{custom_id=" + customId + ", method=" + method + ", url=" + url + '}';
    }
}
