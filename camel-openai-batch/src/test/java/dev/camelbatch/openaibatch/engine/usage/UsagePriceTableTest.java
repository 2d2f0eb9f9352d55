package dev.camelbatch.openaibatch.engine.usage;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchPrices;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The price table (defaults, prefix matching, overrides) and costs against figures computed by hand. */
@Timeout(300)
class UsagePriceTableTest {

    @TempDir
    Path dir;

    static BigDecimal d(String s) {
        return new BigDecimal(s);
    }

    @Test
    void defaultsAreDatedAndCoverTheCommonModels() {
        PriceTable t = PriceTable.defaults();
        assertThat(t.date()).isEqualTo("2025-08");
        for (String m : new String[] { "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3",
                "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano", "text-embedding-3-small", "text-embedding-3-large",
                "omni-moderation-latest" }) {
            assertThat(t.lookup(m)).as(m).isNotNull();
        }
        assertThat(t.lookup("gpt-4o-mini")).isEqualTo(ModelPrice.of("0.075", "0.0375", "0.30"));
        assertThat(t.lookup("omni-moderation-latest")).isEqualTo(ModelPrice.of("0", "0", "0"));
    }

    @Test
    void modelsResolveByTheLongestPrefix() {
        PriceTable t = PriceTable.defaults();
        assertThat(t.matchingKey("gpt-4o-mini-2024-07-18")).isEqualTo("gpt-4o-mini");
        assertThat(t.matchingKey("gpt-4o-2024-08-06")).isEqualTo("gpt-4o");
        assertThat(t.matchingKey("gpt-4.1-nano-2025-04-14")).isEqualTo("gpt-4.1-nano");
        assertThat(t.matchingKey("gpt-5-mini-2025-08-07")).isEqualTo("gpt-5-mini");
        assertThat(t.matchingKey("o3-2025-04-16")).isEqualTo("o3");
        assertThat(t.matchingKey("o3-mini")).isEqualTo("o3-mini");
        assertThat(t.matchingKey("GPT-4O-MINI")).isEqualTo("gpt-4o-mini");
        // a prefix must end at a word boundary
        assertThat(t.matchingKey("o30")).isNull();
        assertThat(t.matchingKey("llama-3.1-70b")).isNull();
        assertThat(t.matchingKey(null)).isNull();
    }

    @Test
    void costWithCachedTokensComputedByHand() {
        PriceTable t = PriceTable.defaults();
        // gpt-4o-mini: 12,000 prompt tokens of which 4,000 cached, 3,000 completion tokens
        // 8,000 x 0.075/M = 0.000600; 4,000 x 0.0375/M = 0.000150; 3,000 x 0.30/M = 0.000900; total 0.001650
        UsageCost c = t.cost("gpt-4o-mini-2024-07-18", new TokenUsage(12_000, 4_000, 3_000, 0));
        assertThat(c.prompt()).isEqualByComparingTo(d("0.000600"));
        assertThat(c.cachedPrompt()).isEqualByComparingTo(d("0.000150"));
        assertThat(c.completion()).isEqualByComparingTo(d("0.000900"));
        assertThat(c.total()).isEqualByComparingTo(d("0.001650"));

        // o4-mini: 2,000 prompt (1,000 cached), 5,000 completion of which 4,000 reasoning (billed as output)
        // 1,000 x 0.55/M = 0.00055; 1,000 x 0.1375/M = 0.0001375; 5,000 x 2.20/M = 0.011; total 0.0116875
        UsageCost o = t.cost("o4-mini", new TokenUsage(2_000, 1_000, 5_000, 4_000));
        assertThat(o.total()).isEqualByComparingTo(d("0.0116875"));

        // embeddings: input only; 1,000,000 tokens of text-embedding-3-small = $0.01
        assertThat(t.cost("text-embedding-3-small", new TokenUsage(1_000_000, 0, 0, 0)).total())
                .isEqualByComparingTo(d("0.01"));
        // moderation is free, unknown models have no cost (tokens are still counted elsewhere)
        assertThat(t.cost("omni-moderation-2024-09-26", new TokenUsage(5_000, 0, 0, 0)).total()).isZero();
        assertThat(t.cost("my-own-model", new TokenUsage(5_000, 0, 10, 0))).isNull();
    }

    @Test
    void aPropertiesFileOverridesAndExtendsTheDefaults() throws Exception {
        Path file = dir.resolve("prices.properties");
        Files.writeString(file, "@date = 2031-02-03\ngpt-4o-mini = 0.1, 0.05, 0.4\nmy-model = 1, -, 2\n"
                                + "gpt-4o = unknown\n");
        OpenAIBatchConfiguration conf = new OpenAIBatchConfiguration();
        conf.setPriceTable(file.toString());
        try (DefaultCamelContext ctx = new DefaultCamelContext()) {
            PriceTable t = OpenAIBatchPrices.resolve(conf, ctx);
            assertThat(t.lookup("gpt-4o-mini-2024-07-18")).isEqualTo(ModelPrice.of("0.1", "0.05", "0.4"));
            assertThat(t.lookup("my-model-v2")).isEqualTo(ModelPrice.of("1", "1", "2"));
            // marked unknown: its snapshots are unknown too, the longer gpt-4o-mini stays priced
            assertThat(t.lookup("gpt-4o-2024-08-06")).isNull();
            assertThat(t.lookup("o3")).isEqualTo(PriceTable.defaults().lookup("o3"));
            assertThat(t.date()).contains("2031-02-03").contains("2025-08");

            conf.setPriceTable("classpath:usage-test-prices.properties");
            assertThat(OpenAIBatchPrices.resolve(conf, ctx).lookup("my-model")).isEqualTo(ModelPrice.of("1", "1", "2"));
            conf.setPriceTable("file:" + file);
            assertThat(OpenAIBatchPrices.resolve(conf, ctx).lookup("my-model")).isNotNull();

            // a bean replaces the defaults; the file still applies on top
            conf.setPrices(PriceTable.builder().date("bean").price("bean-model", "3", "1", "6").build());
            PriceTable withBean = OpenAIBatchPrices.resolve(conf, ctx);
            assertThat(withBean.lookup("bean-model")).isNotNull();
            assertThat(withBean.lookup("my-model")).isNotNull();
            assertThat(withBean.lookup("o3")).isNull();

            conf.setPriceTable(dir.resolve("missing.properties").toString());
            assertThatThrownBy(() -> OpenAIBatchPrices.resolve(conf, ctx))
                    .hasMessageContaining("Cannot read the price table");
        }
        Files.writeString(file, "gpt-4o = cheap\n");
        assertThatThrownBy(() -> PriceTable.load(Files.newInputStream(file), "test"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid price for 'gpt-4o'");
    }

    @Test
    void usageTableLikeThePythonTool() {
        // the example of the Python package's print_usage_table: 119 prompt and 55 completion tokens of gpt-4o-mini
        TokenUsage u = new TokenUsage(119, 0, 55, 0);
        String table = UsageTable.format(u, PriceTable.defaults().cost("gpt-4o-mini", u));
        assertThat(table).isEqualTo("""
                +------------------------+--------+-------------+
                | Category               | Tokens |       Price |
                +------------------------+--------+-------------+
                | Prompt (uncached)      |    119 | $0.00000893 |
                | Cached prompt          |      0 | $0.00000000 |
                | Completion (reasoning) | 55 (0) | $0.00001650 |
                +------------------------+--------+-------------+
                | Total                  |    174 | $0.00002543 |
                +------------------------+--------+-------------+""");
        String unknown = UsageTable.format(new TokenUsage(2_000, 500, 1_000, 300), null);
        assertThat(unknown).contains("| Prompt (uncached)      |       1,500 | unknown |")
                .contains("| Cached prompt          |         500 | unknown |")
                .contains("| Completion (reasoning) | 1,000 (300) | unknown |")
                .contains("| Total                  |       3,000 | unknown |");
    }
}
