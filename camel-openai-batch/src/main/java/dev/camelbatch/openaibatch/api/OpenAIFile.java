package dev.camelbatch.openaibatch.api;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The file object ({@code components.schemas.OpenAIFile}). Every field may be missing or {@code null}; fields unknown
 * to this version are kept in {@link #getAdditionalProperties()}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public class OpenAIFile {
    @JsonProperty("id")
    private String id;
    @JsonProperty("object")
    private String object;
    @JsonProperty("bytes")
    private Long bytes;
    @JsonProperty("created_at")
    private Long createdAt;
    @JsonProperty("expires_at")
    private Long expiresAt;
    @JsonProperty("filename")
    private String filename;
    @JsonProperty("purpose")
    private String purpose;
    @JsonProperty("status")
    private String status;
    @JsonProperty("status_details")
    private String statusDetails;

    private final Map<String, Object> additionalProperties = new LinkedHashMap<>();

    public OpenAIFile() {
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public String getObject() {
        return object;
    }

    public void setObject(String object) {
        this.object = object;
    }

    /** Size in bytes. */
    public Long getBytes() {
        return bytes;
    }

    public void setBytes(Long bytes) {
        this.bytes = bytes;
    }

    /** Unix seconds. */
    public Long getCreatedAt() {
        return createdAt;
    }

    public void setCreatedAt(Long createdAt) {
        this.createdAt = createdAt;
    }

    /** Unix seconds, or {@code null} when the file does not expire. */
    public Long getExpiresAt() {
        return expiresAt;
    }

    public void setExpiresAt(Long expiresAt) {
        this.expiresAt = expiresAt;
    }

    public String getFilename() {
        return filename;
    }

    public void setFilename(String filename) {
        this.filename = filename;
    }

    public String getPurpose() {
        return purpose;
    }

    public void setPurpose(String purpose) {
        this.purpose = purpose;
    }

    /** Deprecated by OpenAI: {@code uploaded}, {@code processed} or {@code error}. */
    public String getStatus() {
        return status;
    }

    public void setStatus(String status) {
        this.status = status;
    }

    /** Deprecated by OpenAI. */
    public String getStatusDetails() {
        return statusDetails;
    }

    public void setStatusDetails(String statusDetails) {
        this.statusDetails = statusDetails;
    }

    /** Fields of the JSON object that this class does not map (kept, and written back on serialization). */
    @JsonAnyGetter
    public Map<String, Object> getAdditionalProperties() {
        return additionalProperties;
    }

    @JsonAnySetter
    public void setAdditionalProperty(String name, Object value) {
        additionalProperties.put(name, value);
    }

    @Override
    public String toString() {
        return "OpenAIFile{id=" + id + ", filename=" + filename + ", purpose=" + purpose + ", bytes=" + bytes
                + ", status=" + status + ", created_at=" + createdAt + ", expires_at=" + expiresAt + '}';
    }
}
