package dev.camelbatch.openaibatch.engine.usage;

import java.math.BigDecimal;
import java.util.Map;

/**
 * Running totals of one endpoint name since the JVM started (or since {@link UsageAccumulator#reset()}): a snapshot,
 * for JMX, metrics and the dev console.
 *
 * @param name                   the endpoint name
 * @param batches                finished batches counted (every line delivered)
 * @param batchesWithUnknownCost of these, batches whose model has no price: their tokens are counted, their cost is
 *                               not part of {@code estimatedCost}
 * @param usage                  tokens of all counted batches
 * @param estimatedCost          estimated cost in US dollars of the batches with a known price
 * @param usageByModel           tokens by model (as requested)
 * @param costByModel            estimated cost by model, for models with a known price
 * @param since                  when counting started (epoch milliseconds)
 */
public record UsageTotals(String name, long batches, long batchesWithUnknownCost, TokenUsage usage,
        BigDecimal estimatedCost, Map<String, TokenUsage> usageByModel, Map<String, BigDecimal> costByModel,
        long since) {

    public long promptTokens() {
        return usage.promptTokens();
    }

    public long cachedTokens() {
        return usage.cachedTokens();
    }

    public long completionTokens() {
        return usage.completionTokens();
    }

    public long reasoningTokens() {
        return usage.reasoningTokens();
    }

    public long totalTokens() {
        return usage.totalTokens();
    }

    /** The totals of an endpoint name (zero when nothing was counted yet). */
    public static UsageTotals of(String name) {
        return UsageAccumulator.forName(name).snapshot();
    }
}
