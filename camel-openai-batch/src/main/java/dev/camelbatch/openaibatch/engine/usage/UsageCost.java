package dev.camelbatch.openaibatch.engine.usage;

import java.math.BigDecimal;

/**
 * An estimated cost in US dollars, by price category.
 *
 * @param prompt       uncached prompt tokens at the input price
 * @param cachedPrompt cached prompt tokens at the cached input price
 * @param completion   completion tokens (reasoning included) at the output price
 */
public record UsageCost(BigDecimal prompt, BigDecimal cachedPrompt, BigDecimal completion) {

    public BigDecimal total() {
        return prompt.add(cachedPrompt).add(completion);
    }
}
