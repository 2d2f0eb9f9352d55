package dev.camelbatch.openaibatch.api;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The batch object ({@code components.schemas.Batch}). Every field may be missing or {@code null}; fields unknown to
 * this version are kept in {@link #getAdditionalProperties()}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public class Batch {
    @JsonProperty("id")
    private String id;
    @JsonProperty("object")
    private String object;
    @JsonProperty("endpoint")
    private String endpoint;
    @JsonProperty("model")
    private String model;
    @JsonProperty("errors")
    private BatchErrors errors;
    @JsonProperty("input_file_id")
    private String inputFileId;
    @JsonProperty("completion_window")
    private String completionWindow;
    @JsonProperty("status")
    private String status;
    @JsonProperty("output_file_id")
    private String outputFileId;
    @JsonProperty("error_file_id")
    private String errorFileId;
    @JsonProperty("created_at")
    private Long createdAt;
    @JsonProperty("in_progress_at")
    private Long inProgressAt;
    @JsonProperty("expires_at")
    private Long expiresAt;
    @JsonProperty("finalizing_at")
    private Long finalizingAt;
    @JsonProperty("completed_at")
    private Long completedAt;
    @JsonProperty("failed_at")
    private Long failedAt;
    @JsonProperty("expired_at")
    private Long expiredAt;
    @JsonProperty("cancelling_at")
    private Long cancellingAt;
    @JsonProperty("cancelled_at")
    private Long cancelledAt;
    @JsonProperty("request_counts")
    private BatchRequestCounts requestCounts;
    @JsonProperty("usage")
    private BatchUsage usage;
    @JsonProperty("metadata")
    private Map<String, String> metadata;

    private final Map<String, Object> additionalProperties = new LinkedHashMap<>();

    public Batch() {
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

    public String getEndpoint() {
        return endpoint;
    }

    public void setEndpoint(String endpoint) {
        this.endpoint = endpoint;
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public BatchErrors getErrors() {
        return errors;
    }

    public void setErrors(BatchErrors errors) {
        this.errors = errors;
    }

    public String getInputFileId() {
        return inputFileId;
    }

    public void setInputFileId(String inputFileId) {
        this.inputFileId = inputFileId;
    }

    public String getCompletionWindow() {
        return completionWindow;
    }

    public void setCompletionWindow(String completionWindow) {
        this.completionWindow = completionWindow;
    }

    /** The raw status string; see {@link #batchStatus()}. */
    public String getStatus() {
        return status;
    }

    public void setStatus(String status) {
        this.status = status;
    }

    public String getOutputFileId() {
        return outputFileId;
    }

    public void setOutputFileId(String outputFileId) {
        this.outputFileId = outputFileId;
    }

    public String getErrorFileId() {
        return errorFileId;
    }

    public void setErrorFileId(String errorFileId) {
        this.errorFileId = errorFileId;
    }

    /** Unix seconds. */
    public Long getCreatedAt() {
        return createdAt;
    }

    public void setCreatedAt(Long createdAt) {
        this.createdAt = createdAt;
    }

    /** Unix seconds. */
    public Long getInProgressAt() {
        return inProgressAt;
    }

    public void setInProgressAt(Long inProgressAt) {
        this.inProgressAt = inProgressAt;
    }

    /** Unix seconds. */
    public Long getExpiresAt() {
        return expiresAt;
    }

    public void setExpiresAt(Long expiresAt) {
        this.expiresAt = expiresAt;
    }

    /** Unix seconds. */
    public Long getFinalizingAt() {
        return finalizingAt;
    }

    public void setFinalizingAt(Long finalizingAt) {
        this.finalizingAt = finalizingAt;
    }

    /** Unix seconds. */
    public Long getCompletedAt() {
        return completedAt;
    }

    public void setCompletedAt(Long completedAt) {
        this.completedAt = completedAt;
    }

    /** Unix seconds. */
    public Long getFailedAt() {
        return failedAt;
    }

    public void setFailedAt(Long failedAt) {
        this.failedAt = failedAt;
    }

    /** Unix seconds. */
    public Long getExpiredAt() {
        return expiredAt;
    }

    public void setExpiredAt(Long expiredAt) {
        this.expiredAt = expiredAt;
    }

    /** Unix seconds. */
    public Long getCancellingAt() {
        return cancellingAt;
    }

    public void setCancellingAt(Long cancellingAt) {
        this.cancellingAt = cancellingAt;
    }

    /** Unix seconds. */
    public Long getCancelledAt() {
        return cancelledAt;
    }

    public void setCancelledAt(Long cancelledAt) {
        this.cancelledAt = cancelledAt;
    }

    public BatchRequestCounts getRequestCounts() {
        return requestCounts;
    }

    public void setRequestCounts(BatchRequestCounts requestCounts) {
        this.requestCounts = requestCounts;
    }

    public BatchUsage getUsage() {
        return usage;
    }

    public void setUsage(BatchUsage usage) {
        this.usage = usage;
    }

    /** The metadata, or {@code null} when the batch has none. */
    public Map<String, String> getMetadata() {
        return metadata;
    }

    public void setMetadata(Map<String, String> metadata) {
        this.metadata = metadata;
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

    /** The status as an enum, or {@code null} when it is missing or not one known to this version. */
    public BatchStatus batchStatus() {
        return BatchStatus.fromValue(status);
    }

    /** Whether the status is a known terminal one ({@code failed, completed, expired, cancelled}). */
    @JsonIgnore
    public boolean isTerminal() {
        BatchStatus s = batchStatus();
        return s != null && s.isTerminal();
    }

    @Override
    public String toString() {
        return "Batch{id=" + id + ", status=" + status + ", endpoint=" + endpoint + ", input_file_id=" + inputFileId
                + ", output_file_id=" + outputFileId + ", error_file_id=" + errorFileId + ", request_counts="
                + requestCounts + ", created_at=" + createdAt + ", metadata=" + metadata + '}';
    }
}
