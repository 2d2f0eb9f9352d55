package dev.camelbatch.openaibatch.engine.lines;

import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * Estimates the input tokens of a request body with the {@code o200k_base} (GPT-4o family) or {@code cl100k_base}
 * encoding of jtokkit: the text of the prompt fields (messages, input, prompt, instructions) plus a few tokens of
 * overhead per message. An estimate for batch cutting and quotas, not a bill.
 */
public final class TokenEstimator {

    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    private final Encoding encoding;

    public TokenEstimator(String encodingName) {
        EncodingType type = EncodingType.fromName(encodingName)
                .orElseThrow(() -> new IllegalArgumentException("Unknown token encoding '" + encodingName
                                                                + "'; use o200k_base or cl100k_base"));
        this.encoding = REGISTRY.getEncoding(type);
    }

    public int estimate(JsonNode body) {
        int[] total = { 0 };
        for (String field : new String[] { "messages", "input", "prompt", "instructions" }) {
            JsonNode n = body.get(field);
            if (n == null) {
                continue;
            }
            if (n.isArray() && "messages".equals(field)) {
                total[0] += 3 * n.size() + 3;
            }
            RequestLines.forEachText(n, s -> total[0] += encoding.countTokensOrdinary(s));
        }
        return total[0];
    }
}
