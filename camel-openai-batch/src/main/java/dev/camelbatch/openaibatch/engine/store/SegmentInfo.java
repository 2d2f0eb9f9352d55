package dev.camelbatch.openaibatch.engine.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The persisted state of one segment (one batch to be). Mutable; a store persists a copy on every
 * {@link BatchStore#update(SegmentInfo)}. Field names are stable: they are the on-disk (and in-table) format.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SegmentInfo implements Cloneable {

    private String id;
    private String name;
    private String endpoint;
    private String model;
    private int attempt = 1;
    /** The segment whose failed lines this one resubmits, if any. */
    private String parentId;
    private SegmentStatus status = SegmentStatus.OPEN;
    private int requestCount;
    private long bytes;
    private long tokens;
    private long createdAt;
    private Long sealedAt;
    /** Seal when the oldest request is this old (from the producer's batchTimeout); null = the engine's default. */
    private Long maxAgeMillis;
    private String sealReason;

    private String uploadFilename;
    private Long uploadStartedAt;
    private String inputFileId;
    private Long createStartedAt;
    private String batchId;
    private Long submittedAt;
    private String batchStatus;
    private Long batchCreatedAt;
    private String outputFileId;
    private String errorFileId;
    private int completed;
    private int failed;
    private int total;
    private Long lastProgressAt;
    private Long finishedAt;
    private Long inputTokens;
    private Long cachedTokens;
    private Long outputTokens;
    private Long reasoningTokens;

    /** Submission failures in a row (backoff) and the earliest time of the next try. */
    private int submitFailures;
    private Long notBefore;
    private String lastError;
    /**
     * Batches created for this segment (this attempt) that ended {@code failed}, for any reason; numbers each new
     * submission of the same segment (batch metadata, upload file name), and is never reset.
     */
    private int batchFailures;
    /** Of {@link #batchFailures}, those that failed on a quota (they do not count against maxBatchFailures). */
    private int quotaFailures;
    /** Every line of the finished batch has been delivered; only the clean-up is left. */
    private boolean delivered;
    /** Lines already emitted from the output file and from the error file. */
    private long emittedOutput;
    private long emittedErrors;
    /**
     * The value of the error-line checkpoint of a segment emitted in request order ({@code emitInOrder}): its lines
     * come from one sorted sequence, counted by the output-line checkpoint. The largest value, so that stores which
     * keep the greater of two checkpoints keep it.
     */
    public static final long EMITTED_IN_ORDER = Long.MAX_VALUE;
    private long emittedSynthetic;

    /** A new segment with a fresh id, of the given name, endpoint, model and status, created at {@code createdAt}. */
    public static SegmentInfo create(String name, String endpoint, String model, SegmentStatus status,
            long createdAt) {
        SegmentInfo s = new SegmentInfo();
        s.setId(SegmentIds.next());
        s.setName(name);
        s.setEndpoint(endpoint);
        s.setModel(model);
        s.setCreatedAt(createdAt);
        SegmentLifecycle.begin(s, status);
        return s;
    }

    /** Records that this segment's batch was created (or adopted): SUBMITTED, with the batch's id and status. */
    public void submittedAs(String batchId, String batchStatus, Long batchCreatedAt, long now) {
        setBatchId(batchId);
        setBatchStatus(batchStatus);
        setBatchCreatedAt(batchCreatedAt);
        setSubmittedAt(now);
        setSubmitFailures(0);
        setNotBefore(null);
        setLastError(null);
        SegmentLifecycle.move(this, SegmentStatus.SUBMITTED);
    }

    public SegmentInfo copy() {
        try {
            return (SegmentInfo) clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
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

    public int getAttempt() {
        return attempt;
    }

    public void setAttempt(int attempt) {
        this.attempt = attempt;
    }

    public String getParentId() {
        return parentId;
    }

    public void setParentId(String parentId) {
        this.parentId = parentId;
    }

    public SegmentStatus getStatus() {
        return status;
    }

    /**
     * Sets the status: {@link SegmentLifecycle} only ({@code move}, {@code begin}, and {@code restore} for a status a
     * store read back).
     */
    void setStatus(SegmentStatus status) {
        this.status = status;
    }

    public int getRequestCount() {
        return requestCount;
    }

    public void setRequestCount(int requestCount) {
        this.requestCount = requestCount;
    }

    public long getBytes() {
        return bytes;
    }

    public void setBytes(long bytes) {
        this.bytes = bytes;
    }

    public long getTokens() {
        return tokens;
    }

    public void setTokens(long tokens) {
        this.tokens = tokens;
    }

    public long getCreatedAt() {
        return createdAt;
    }

    public void setCreatedAt(long createdAt) {
        this.createdAt = createdAt;
    }

    public Long getMaxAgeMillis() {
        return maxAgeMillis;
    }

    public void setMaxAgeMillis(Long maxAgeMillis) {
        this.maxAgeMillis = maxAgeMillis;
    }

    public Long getSealedAt() {
        return sealedAt;
    }

    public void setSealedAt(Long sealedAt) {
        this.sealedAt = sealedAt;
    }

    public String getSealReason() {
        return sealReason;
    }

    /** Records why the segment was sealed (a method of its own: the JSON form keeps the string setter). */
    public void sealedBy(SealReason reason) {
        this.sealReason = reason.value();
    }

    /** Restores the reason as recorded (stores reading a segment back). */
    void setSealReason(String sealReason) {
        this.sealReason = sealReason;
    }

    public String getUploadFilename() {
        return uploadFilename;
    }

    public void setUploadFilename(String uploadFilename) {
        this.uploadFilename = uploadFilename;
    }

    public Long getUploadStartedAt() {
        return uploadStartedAt;
    }

    public void setUploadStartedAt(Long uploadStartedAt) {
        this.uploadStartedAt = uploadStartedAt;
    }

    public String getInputFileId() {
        return inputFileId;
    }

    public void setInputFileId(String inputFileId) {
        this.inputFileId = inputFileId;
    }

    public Long getCreateStartedAt() {
        return createStartedAt;
    }

    public void setCreateStartedAt(Long createStartedAt) {
        this.createStartedAt = createStartedAt;
    }

    public String getBatchId() {
        return batchId;
    }

    public void setBatchId(String batchId) {
        this.batchId = batchId;
    }

    public Long getSubmittedAt() {
        return submittedAt;
    }

    public void setSubmittedAt(Long submittedAt) {
        this.submittedAt = submittedAt;
    }

    public String getBatchStatus() {
        return batchStatus;
    }

    public void setBatchStatus(String batchStatus) {
        this.batchStatus = batchStatus;
    }

    public Long getBatchCreatedAt() {
        return batchCreatedAt;
    }

    public void setBatchCreatedAt(Long batchCreatedAt) {
        this.batchCreatedAt = batchCreatedAt;
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

    public int getCompleted() {
        return completed;
    }

    public void setCompleted(int completed) {
        this.completed = completed;
    }

    public int getFailed() {
        return failed;
    }

    public void setFailed(int failed) {
        this.failed = failed;
    }

    public int getTotal() {
        return total;
    }

    public void setTotal(int total) {
        this.total = total;
    }

    public Long getLastProgressAt() {
        return lastProgressAt;
    }

    public void setLastProgressAt(Long lastProgressAt) {
        this.lastProgressAt = lastProgressAt;
    }

    public Long getFinishedAt() {
        return finishedAt;
    }

    public void setFinishedAt(Long finishedAt) {
        this.finishedAt = finishedAt;
    }

    public Long getInputTokens() {
        return inputTokens;
    }

    public void setInputTokens(Long inputTokens) {
        this.inputTokens = inputTokens;
    }

    public Long getCachedTokens() {
        return cachedTokens;
    }

    public void setCachedTokens(Long cachedTokens) {
        this.cachedTokens = cachedTokens;
    }

    public Long getOutputTokens() {
        return outputTokens;
    }

    public void setOutputTokens(Long outputTokens) {
        this.outputTokens = outputTokens;
    }

    public Long getReasoningTokens() {
        return reasoningTokens;
    }

    public void setReasoningTokens(Long reasoningTokens) {
        this.reasoningTokens = reasoningTokens;
    }

    public int getSubmitFailures() {
        return submitFailures;
    }

    public void setSubmitFailures(int submitFailures) {
        this.submitFailures = submitFailures;
    }

    public Long getNotBefore() {
        return notBefore;
    }

    public void setNotBefore(Long notBefore) {
        this.notBefore = notBefore;
    }

    public String getLastError() {
        return lastError;
    }

    public void setLastError(String lastError) {
        this.lastError = lastError;
    }

    public int getBatchFailures() {
        return batchFailures;
    }

    public void setBatchFailures(int batchFailures) {
        this.batchFailures = batchFailures;
    }

    public boolean isDelivered() {
        return delivered;
    }

    public void setDelivered(boolean delivered) {
        this.delivered = delivered;
    }

    public int getQuotaFailures() {
        return quotaFailures;
    }

    public void setQuotaFailures(int quotaFailures) {
        this.quotaFailures = quotaFailures;
    }

    public long getEmittedOutput() {
        return emittedOutput;
    }

    public void setEmittedOutput(long emittedOutput) {
        this.emittedOutput = emittedOutput;
    }

    public long getEmittedErrors() {
        return emittedErrors;
    }

    public void setEmittedErrors(long emittedErrors) {
        this.emittedErrors = emittedErrors;
    }

    public long getEmittedSynthetic() {
        return emittedSynthetic;
    }

    /** The lines of this segment delivered so far (whichever way they are emitted); derived, never stored. */
    @JsonIgnore
    public long getLinesDelivered() {
        return emittedOutput + (emittedErrors == EMITTED_IN_ORDER ? 0 : emittedErrors) + emittedSynthetic;
    }

    public void setEmittedSynthetic(long emittedSynthetic) {
        this.emittedSynthetic = emittedSynthetic;
    }

    @Override
    public String toString() {
        return "Segment[" + id + " " + status + " model=" + model + " requests=" + requestCount
               + (batchId != null ? " batch=" + batchId + " " + batchStatus : "") + "]";
    }
}
