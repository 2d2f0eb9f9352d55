package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Token usage of a batch ({@code Batch.usage}); only set on batches created after September 2025. */
@JsonIgnoreProperties(ignoreUnknown = true)
public class BatchUsage {

    @JsonProperty("input_tokens")
    private Long inputTokens;
    @JsonProperty("input_tokens_details")
    private InputTokensDetails inputTokensDetails;
    @JsonProperty("output_tokens")
    private Long outputTokens;
    @JsonProperty("output_tokens_details")
    private OutputTokensDetails outputTokensDetails;
    @JsonProperty("total_tokens")
    private Long totalTokens;

    public Long getInputTokens() {
        return inputTokens;
    }

    public void setInputTokens(Long inputTokens) {
        this.inputTokens = inputTokens;
    }

    public InputTokensDetails getInputTokensDetails() {
        return inputTokensDetails;
    }

    public void setInputTokensDetails(InputTokensDetails inputTokensDetails) {
        this.inputTokensDetails = inputTokensDetails;
    }

    public Long getOutputTokens() {
        return outputTokens;
    }

    public void setOutputTokens(Long outputTokens) {
        this.outputTokens = outputTokens;
    }

    public OutputTokensDetails getOutputTokensDetails() {
        return outputTokensDetails;
    }

    public void setOutputTokensDetails(OutputTokensDetails outputTokensDetails) {
        this.outputTokensDetails = outputTokensDetails;
    }

    public Long getTotalTokens() {
        return totalTokens;
    }

    public void setTotalTokens(Long totalTokens) {
        this.totalTokens = totalTokens;
    }

    @Override
    public String toString() {
        return "{input_tokens=" + inputTokens + ", input_tokens_details=" + inputTokensDetails + ", output_tokens="
                + outputTokens + ", output_tokens_details=" + outputTokensDetails + ", total_tokens=" + totalTokens
                + '}';
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class InputTokensDetails {
        @JsonProperty("cached_tokens")
        private Long cachedTokens;

        public Long getCachedTokens() {
            return cachedTokens;
        }

        public void setCachedTokens(Long cachedTokens) {
            this.cachedTokens = cachedTokens;
        }

        @Override
        public String toString() {
            return "{cached_tokens=" + cachedTokens + '}';
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class OutputTokensDetails {
        @JsonProperty("reasoning_tokens")
        private Long reasoningTokens;

        public Long getReasoningTokens() {
            return reasoningTokens;
        }

        public void setReasoningTokens(Long reasoningTokens) {
            this.reasoningTokens = reasoningTokens;
        }

        @Override
        public String toString() {
            return "{reasoning_tokens=" + reasoningTokens + '}';
        }
    }
}
