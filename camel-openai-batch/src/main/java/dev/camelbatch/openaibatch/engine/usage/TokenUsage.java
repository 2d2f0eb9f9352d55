package dev.camelbatch.openaibatch.engine.usage;

import com.fasterxml.jackson.databind.JsonNode;
import dev.camelbatch.openaibatch.api.BatchUsage;

/**
 * Tokens used by a request, a batch or many batches. Cached tokens are part of the prompt tokens and reasoning tokens
 * part of the completion tokens, as the API reports them; they are kept apart because they are priced (cached) or
 * worth watching (reasoning) on their own.
 *
 * @param promptTokens     input tokens, cached ones included
 * @param cachedTokens     input tokens served from the prompt cache
 * @param completionTokens output tokens, reasoning ones included
 * @param reasoningTokens  output tokens spent on reasoning
 */
public record TokenUsage(long promptTokens, long cachedTokens, long completionTokens, long reasoningTokens) {

    public static final TokenUsage ZERO = new TokenUsage(0, 0, 0, 0);

    public long totalTokens() {
        return promptTokens + completionTokens;
    }

    /** Prompt tokens billed at the full input price. */
    public long uncachedPromptTokens() {
        return Math.max(0, promptTokens - cachedTokens);
    }

    public TokenUsage plus(TokenUsage o) {
        if (o == null) {
            return this;
        }
        return new TokenUsage(promptTokens + o.promptTokens, cachedTokens + o.cachedTokens,
                completionTokens + o.completionTokens, reasoningTokens + o.reasoningTokens);
    }

    public boolean isZero() {
        return promptTokens == 0 && cachedTokens == 0 && completionTokens == 0 && reasoningTokens == 0;
    }

    /** The usage of a batch object ({@code batch.usage}), or {@code null} when it has none. */
    public static TokenUsage of(BatchUsage u) {
        if (u == null || (u.getInputTokens() == null && u.getOutputTokens() == null)) {
            return null;
        }
        return new TokenUsage(nz(u.getInputTokens()),
                u.getInputTokensDetails() != null ? nz(u.getInputTokensDetails().getCachedTokens()) : 0,
                nz(u.getOutputTokens()),
                u.getOutputTokensDetails() != null ? nz(u.getOutputTokensDetails().getReasoningTokens()) : 0);
    }

    /** Usage from counts recorded apart (a missing count is 0), or {@code null} when neither side was recorded. */
    public static TokenUsage of(Long input, Long cached, Long output, Long reasoning) {
        if (input == null && output == null) {
            return null;
        }
        return new TokenUsage(nz(input), nz(cached), nz(output), nz(reasoning));
    }

    /**
     * The usage object of a response body: chat and completions ({@code prompt_tokens, completion_tokens,
     * prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens}), responses ({@code input_tokens,
     * output_tokens, ..._details}), embeddings ({@code prompt_tokens} only). {@code null} when there is none.
     */
    public static TokenUsage ofResponse(JsonNode usage) {
        if (usage == null || !usage.isObject()) {
            return null;
        }
        boolean chat = usage.has("prompt_tokens") || usage.has("completion_tokens");
        long prompt = chat ? usage.path("prompt_tokens").asLong(0) : usage.path("input_tokens").asLong(0);
        long completion = chat ? usage.path("completion_tokens").asLong(0) : usage.path("output_tokens").asLong(0);
        long cached = chat ? usage.path("prompt_tokens_details").path("cached_tokens").asLong(0)
                : usage.path("input_tokens_details").path("cached_tokens").asLong(0);
        long reasoning = chat ? usage.path("completion_tokens_details").path("reasoning_tokens").asLong(0)
                : usage.path("output_tokens_details").path("reasoning_tokens").asLong(0);
        return new TokenUsage(prompt, cached, completion, reasoning);
    }

    private static long nz(Long l) {
        return l == null ? 0 : l;
    }
}
