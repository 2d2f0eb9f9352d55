package dev.camelbatch.openaibatch.engine.usage;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * Batch prices of one model in US dollars per million tokens.
 *
 * @param input       uncached input (prompt) tokens
 * @param cachedInput cached input tokens
 * @param output      output (completion) tokens, reasoning included
 */
public record ModelPrice(BigDecimal input, BigDecimal cachedInput, BigDecimal output) {

    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    public ModelPrice {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(cachedInput, "cachedInput");
        Objects.requireNonNull(output, "output");
        if (input.signum() < 0 || cachedInput.signum() < 0 || output.signum() < 0) {
            throw new IllegalArgumentException("prices must not be negative");
        }
    }

    public static ModelPrice of(String input, String cachedInput, String output) {
        return new ModelPrice(new BigDecimal(input), new BigDecimal(cachedInput), new BigDecimal(output));
    }

    /** The cost of the given usage (exact; no rounding). */
    public UsageCost cost(TokenUsage u) {
        return new UsageCost(times(u.uncachedPromptTokens(), input), times(Math.min(u.cachedTokens(), u.promptTokens()),
                cachedInput), times(u.completionTokens(), output));
    }

    private static BigDecimal times(long tokens, BigDecimal perMillion) {
        return BigDecimal.valueOf(tokens).multiply(perMillion).divide(MILLION);
    }
}
