package dev.camelbatch.openaibatch.engine.lines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link TokenEstimator} against fixed token counts, never against itself: counts published by OpenAI for its
 * tokenizer (tiktoken), and counts of cl100k_base and o200k_base written down once (computed with jtokkit 1.1.0,
 * which matches tiktoken on the published ones) for plain, accented, non-Latin and code-like text.
 */
@Timeout(120)
class TokenEstimatorTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final TokenEstimator CL100K = new TokenEstimator("cl100k_base");
    private static final TokenEstimator O200K = new TokenEstimator("o200k_base");

    private static JsonNode field(String name, String text) {
        return MAPPER.createObjectNode().put("model", "gpt-4o-mini").put(name, text);
    }

    @Test
    void publishedCountsOfTheOpenAiTokenizer() {
        // tiktoken's README and OpenAI's cookbook "How to count tokens with tiktoken": "hello world" is the two
        // tokens [15339, 1917] in cl100k_base; "tiktoken is great!" is the six tokens [83, 1609, 5963, 374, 2294, 0]
        var cl100k = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        assertThat(cl100k.encodeOrdinary("hello world").boxed()).containsExactly(15339, 1917);
        assertThat(cl100k.encodeOrdinary("tiktoken is great!").boxed()).containsExactly(83, 1609, 5963, 374, 2294, 0);
        assertThat(CL100K.estimate(field("prompt", "hello world"))).isEqualTo(2);
        assertThat(CL100K.estimate(field("prompt", "tiktoken is great!"))).isEqualTo(6);
        // the cookbook's comparison of encodings
        assertThat(CL100K.estimate(field("prompt", "antidisestablishmentarianism"))).isEqualTo(6);
        assertThat(O200K.estimate(field("prompt", "antidisestablishmentarianism"))).isEqualTo(6);
        assertThat(CL100K.estimate(field("prompt", "2 + 2 = 4"))).isEqualTo(7);
        assertThat(O200K.estimate(field("prompt", "2 + 2 = 4"))).isEqualTo(7);
        assertThat(CL100K.estimate(field("prompt", "お誕生日おめでとう"))).isEqualTo(9);
        assertThat(O200K.estimate(field("prompt", "お誕生日おめでとう"))).isEqualTo(8);
    }

    @ParameterizedTest(name = "{0}: cl100k_base {1}, o200k_base {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "hello world | 2 | 2",
        "The quick brown fox jumps over the lazy dog. | 10 | 10",
        "You are a helpful assistant. | 6 | 6",
        "\"Calculate: 1 + 14 = \" | 9 | 9",
        "Please summarise the following customer review in one short sentence: the parcel 7 arrived late but intact. | 21 | 21",
        "Grüße aus Zürich – naïve café, 10 €. | 16 | 13",
        "\"    indented(code) { return x->y; }\" | 12 | 12",
        "user | 1 | 1",
    })
    void fixedCountsOfBothEncodings(String text, int cl100k, int o200k) {
        for (String f : new String[] { "prompt", "input", "instructions" }) {
            assertThat(CL100K.estimate(field(f, text))).as("cl100k_base, %s", f).isEqualTo(cl100k);
            assertThat(O200K.estimate(field(f, text))).as("o200k_base, %s", f).isEqualTo(o200k);
        }
    }

    @Test
    void messagesCountTheirTextAndThreeTokensEachPlusThreeForTheReply() {
        ObjectNode body = MAPPER.createObjectNode().put("model", "gpt-4o-mini");
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", "You are a helpful assistant.");
        messages.addObject().put("role", "user").put("content", "hello world");
        // (3 + "system" 1 + 6) + (3 + "user" 1 + 2) + 3, as in OpenAI's cookbook for chat messages
        assertThat(CL100K.estimate(body)).isEqualTo(19);
        assertThat(O200K.estimate(body)).isEqualTo(19);
    }

    @Test
    void onlyThePromptFieldsCount() {
        ObjectNode body = MAPPER.createObjectNode().put("model", "gpt-4o-mini").put("temperature", 0.2)
                .put("user", "customer-42");
        body.putObject("metadata").put("note", "not a prompt");
        assertThat(O200K.estimate(body)).isZero();
        assertThat(O200K.estimate(field("prompt", ""))).isZero();
    }

    @Test
    void unknownEncodingIsRefused() {
        assertThatThrownBy(() -> new TokenEstimator("p99k_base")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("p99k_base").hasMessageContaining("o200k_base");
    }
}
