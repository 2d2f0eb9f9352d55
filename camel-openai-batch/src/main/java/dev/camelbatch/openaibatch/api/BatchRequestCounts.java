package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Request counts of a batch ({@code BatchRequestCounts}). */
@JsonIgnoreProperties(ignoreUnknown = true)
public class BatchRequestCounts {

    @JsonProperty("total")
    private Integer total;
    @JsonProperty("completed")
    private Integer completed;
    @JsonProperty("failed")
    private Integer failed;

    public BatchRequestCounts() {
    }

    public BatchRequestCounts(Integer total, Integer completed, Integer failed) {
        this.total = total;
        this.completed = completed;
        this.failed = failed;
    }

    public Integer getTotal() {
        return total;
    }

    public void setTotal(Integer total) {
        this.total = total;
    }

    public Integer getCompleted() {
        return completed;
    }

    public void setCompleted(Integer completed) {
        this.completed = completed;
    }

    public Integer getFailed() {
        return failed;
    }

    public void setFailed(Integer failed) {
        this.failed = failed;
    }

    @Override
    public String toString() {
        return "{total=" + total + ", completed=" + completed + ", failed=" + failed + '}';
    }
}
