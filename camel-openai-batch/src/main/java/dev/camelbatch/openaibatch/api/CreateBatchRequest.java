package dev.camelbatch.openaibatch.api;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The body of {@code POST /batches} ({@code CreateBatchRequest}). The required fields ({@code input_file_id},
 * {@code endpoint}, {@code completion_window}) are always written; the optional ones ({@code metadata},
 * {@code output_expires_after}) are left out when {@code null}.
 * <p>
 * The endpoint is passed as given: {@code /v1/chat/completions} for OpenAI, for Azure see
 * {@link OpenAIBatchClient#azureEndpointValue(String, String)}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public class CreateBatchRequest {

    public static final String DEFAULT_COMPLETION_WINDOW = "24h";
    public static final int MAX_METADATA_PAIRS = 16;
    public static final int MAX_METADATA_KEY_LENGTH = 64;
    public static final int MAX_METADATA_VALUE_LENGTH = 512;

    @JsonProperty("input_file_id")
    private String inputFileId;
    @JsonProperty("endpoint")
    private String endpoint;
    @JsonProperty("completion_window")
    private String completionWindow = DEFAULT_COMPLETION_WINDOW;
    @JsonProperty("metadata")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private Map<String, String> metadata;
    @JsonProperty("output_expires_after")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private FileExpirationAfter outputExpiresAfter;

    public CreateBatchRequest() {
    }

    public static Builder builder() {
        return new Builder();
    }

    public String getInputFileId() {
        return inputFileId;
    }

    public void setInputFileId(String inputFileId) {
        this.inputFileId = inputFileId;
    }

    public String getEndpoint() {
        return endpoint;
    }

    public void setEndpoint(String endpoint) {
        this.endpoint = endpoint;
    }

    public String getCompletionWindow() {
        return completionWindow;
    }

    public void setCompletionWindow(String completionWindow) {
        this.completionWindow = completionWindow;
    }

    public Map<String, String> getMetadata() {
        return metadata;
    }

    public void setMetadata(Map<String, String> metadata) {
        this.metadata = metadata;
    }

    public FileExpirationAfter getOutputExpiresAfter() {
        return outputExpiresAfter;
    }

    public void setOutputExpiresAfter(FileExpirationAfter outputExpiresAfter) {
        this.outputExpiresAfter = outputExpiresAfter;
    }

    /**
     * Checks what the client can check before sending: the required fields and the metadata limits (at most 16 pairs,
     * keys at most 64 characters, values at most 512 characters, counted in Unicode code points; no {@code null}
     * key or value).
     *
     * @throws IllegalArgumentException naming the offending field or metadata key and the limit
     */
    public void validate() {
        if (inputFileId == null || inputFileId.isBlank()) {
            throw new IllegalArgumentException("input_file_id is required");
        }
        if (endpoint == null || endpoint.isBlank()) {
            throw new IllegalArgumentException("endpoint is required");
        }
        if (completionWindow == null || completionWindow.isBlank()) {
            throw new IllegalArgumentException("completion_window is required");
        }
        validateMetadata(metadata);
        if (outputExpiresAfter != null) {
            if (outputExpiresAfter.getSeconds() == null || outputExpiresAfter.getSeconds() <= 0) {
                throw new IllegalArgumentException("output_expires_after.seconds must be a positive number");
            }
            if (outputExpiresAfter.getAnchor() == null || outputExpiresAfter.getAnchor().isBlank()) {
                throw new IllegalArgumentException("output_expires_after.anchor is required");
            }
        }
    }

    /** Validates metadata against the API limits ({@code null} is valid: no metadata). */
    public static void validateMetadata(Map<String, String> metadata) {
        if (metadata == null) {
            return;
        }
        if (metadata.size() > MAX_METADATA_PAIRS) {
            throw new IllegalArgumentException("metadata has " + metadata.size() + " pairs; at most "
                    + MAX_METADATA_PAIRS + " are allowed");
        }
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            String key = e.getKey();
            if (key == null) {
                throw new IllegalArgumentException("metadata key must not be null");
            }
            int keyLength = key.codePointCount(0, key.length());
            if (keyLength > MAX_METADATA_KEY_LENGTH) {
                throw new IllegalArgumentException("metadata key '" + abbreviate(key) + "' is " + keyLength
                        + " characters long; keys may have at most " + MAX_METADATA_KEY_LENGTH + " characters");
            }
            String value = e.getValue();
            if (value == null) {
                throw new IllegalArgumentException("metadata value of key '" + key + "' must not be null");
            }
            int valueLength = value.codePointCount(0, value.length());
            if (valueLength > MAX_METADATA_VALUE_LENGTH) {
                throw new IllegalArgumentException("metadata value of key '" + key + "' is " + valueLength
                        + " characters long; values may have at most " + MAX_METADATA_VALUE_LENGTH + " characters");
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    @Override
    public String toString() {
        return "CreateBatchRequest{input_file_id=" + inputFileId + ", endpoint=" + endpoint + ", completion_window="
                + completionWindow + ", metadata=" + metadata + ", output_expires_after=" + outputExpiresAfter + '}';
    }

    public static final class Builder {
        private String inputFileId;
        private String endpoint;
        private String completionWindow = DEFAULT_COMPLETION_WINDOW;
        private Map<String, String> metadata;
        private FileExpirationAfter outputExpiresAfter;

        private Builder() {
        }

        public Builder inputFileId(String inputFileId) {
            this.inputFileId = inputFileId;
            return this;
        }

        /** E.g. {@code /v1/chat/completions} (OpenAI) or {@code /chat/completions} (Azure dated api-versions). */
        public Builder endpoint(String endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        /** Defaults to {@code 24h} (the only value the API accepts today); {@code null} resets to the default. */
        public Builder completionWindow(String completionWindow) {
            this.completionWindow = completionWindow == null ? DEFAULT_COMPLETION_WINDOW : completionWindow;
            return this;
        }

        /** Replaces the metadata (copied, order kept); {@code null} for none. */
        public Builder metadata(Map<String, String> metadata) {
            this.metadata = metadata == null ? null : new LinkedHashMap<>(metadata);
            return this;
        }

        public Builder putMetadata(String key, String value) {
            if (metadata == null) {
                metadata = new LinkedHashMap<>();
            }
            metadata.put(key, value);
            return this;
        }

        public Builder outputExpiresAfter(FileExpirationAfter outputExpiresAfter) {
            this.outputExpiresAfter = outputExpiresAfter;
            return this;
        }

        /** {@code output_expires_after = {anchor: "created_at", seconds}}; {@code null} for none. */
        public Builder outputExpiresAfterSeconds(Long seconds) {
            this.outputExpiresAfter = seconds == null ? null : FileExpirationAfter.createdAtPlus(seconds);
            return this;
        }

        /** Builds and {@linkplain CreateBatchRequest#validate() validates} the request. */
        public CreateBatchRequest build() {
            CreateBatchRequest r = new CreateBatchRequest();
            r.inputFileId = inputFileId;
            r.endpoint = endpoint;
            r.completionWindow = completionWindow;
            r.metadata = metadata == null ? null : new LinkedHashMap<>(metadata);
            r.outputExpiresAfter = outputExpiresAfter;
            r.validate();
            return r;
        }
    }
}
