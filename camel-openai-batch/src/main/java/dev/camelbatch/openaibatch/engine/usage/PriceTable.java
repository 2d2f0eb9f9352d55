package dev.camelbatch.openaibatch.engine.usage;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Batch prices per model, for cost estimates. Models are matched by the longest prefix that ends at a word boundary,
 * so that dated snapshots ({@code gpt-4o-mini-2024-07-18}) resolve to their family ({@code gpt-4o-mini}); an entry
 * whose price is unknown (see below) hides the shorter prefixes.
 * <p>
 * The shipped defaults ({@value #DEFAULT_RESOURCE} on the class path) are the figures known when they were written,
 * dated by {@link #date()}: check them against OpenAI's pricing page, and override or extend them with a properties
 * file of the same format:
 *
 * <pre>
 * &#64;date = 2025-08-20
 * # model = input, cached input, output   (US dollars per million tokens, batch prices)
 * gpt-4o-mini = 0.075, 0.0375, 0.30
 * text-embedding-3-small = 0.01, -, 0     (- : cached input costs the input price)
 * my-fine-tune = unknown                  (tokens counted, cost unknown)
 * </pre>
 */
public final class PriceTable {

    /** The class-path resource of the shipped defaults. */
    public static final String DEFAULT_RESOURCE = "openai-batch-prices.properties";
    /** The key of the date the prices were taken. */
    public static final String DATE_KEY = "@date";

    private static volatile PriceTable defaults;

    /** Model (lower case) to price; a {@code null} value marks a model whose price is unknown. */
    private final Map<String, ModelPrice> prices;
    private final String date;
    private final String source;

    private PriceTable(Map<String, ModelPrice> prices, String date, String source) {
        this.prices = Collections.unmodifiableMap(new TreeMap<>(prices));
        this.date = date;
        this.source = source;
    }

    /** The shipped default prices. */
    public static PriceTable defaults() {
        PriceTable d = defaults;
        if (d == null) {
            try (InputStream in = PriceTable.class.getClassLoader().getResourceAsStream(DEFAULT_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("The resource " + DEFAULT_RESOURCE + " is missing");
                }
                d = load(in, "classpath:" + DEFAULT_RESOURCE);
            } catch (IOException e) {
                throw new IllegalStateException("Cannot read " + DEFAULT_RESOURCE + ": " + e.getMessage(), e);
            }
            defaults = d;
        }
        return d;
    }

    /** An empty table (every model unknown). */
    public static PriceTable empty() {
        return new PriceTable(Map.of(), null, "empty");
    }

    /** Reads a table from a properties stream (UTF-8) in the format described above. */
    public static PriceTable load(InputStream in, String source) throws IOException {
        Properties p = new Properties();
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        return parse(p, source);
    }

    /** A table from properties in the format described above. */
    public static PriceTable parse(Properties p, String source) {
        Builder b = builder().source(source);
        for (String key : p.stringPropertyNames()) {
            String value = p.getProperty(key).trim();
            if (DATE_KEY.equals(key)) {
                b.date(value);
                continue;
            }
            if (key.startsWith("@")) {
                continue;
            }
            if (value.isEmpty() || value.equalsIgnoreCase("unknown")) {
                b.unknown(key);
                continue;
            }
            String[] parts = value.split(",");
            try {
                if (parts.length == 3) {
                    String cached = parts[1].trim();
                    b.price(key, parts[0].trim(), cached.equals("-") ? parts[0].trim() : cached, parts[2].trim());
                } else if (parts.length == 2) {
                    b.price(key, parts[0].trim(), parts[0].trim(), parts[1].trim());
                } else {
                    throw new IllegalArgumentException("expected 'input, cached input, output'");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Price table " + source + ": invalid price for '" + key + "' = '"
                                                   + value + "': " + e.getMessage()
                                                   + " (format: input, cached input, output in US dollars per"
                                                   + " million tokens; or 'unknown')", e);
            }
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this table's entries, to extend or change them. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.prices.putAll(prices);
        b.date = date;
        b.source = source;
        return b;
    }

    /**
     * This table with the entries of {@code other} added or replacing its own (an unknown price in {@code other}
     * removes a model); the date and source become those of {@code other} when it has them.
     */
    public PriceTable withOverrides(PriceTable other) {
        if (other == null) {
            return this;
        }
        Builder b = toBuilder();
        b.prices.putAll(other.prices);
        if (other.date != null) {
            b.date = date != null && !date.equals(other.date) ? other.date + " (overrides), " + date + " (defaults)"
                    : other.date;
        }
        b.source = source + " + " + other.source;
        return b.build();
    }

    /** The price of a model, or {@code null} when it is unknown. */
    public ModelPrice lookup(String model) {
        String key = matchingKey(model);
        return key == null ? null : prices.get(key);
    }

    /** The entry a model resolves to (longest prefix at a boundary), or {@code null}. */
    public String matchingKey(String model) {
        if (model == null || model.isBlank()) {
            return null;
        }
        String m = model.trim().toLowerCase(Locale.ROOT);
        String best = null;
        for (String key : prices.keySet()) {
            if (m.startsWith(key) && (m.length() == key.length() || !Character.isLetterOrDigit(m.charAt(key.length())))
                    && (best == null || key.length() > best.length())) {
                best = key;
            }
        }
        return best;
    }

    /** The estimated cost of the usage of a model, or {@code null} when the model's price is unknown. */
    public UsageCost cost(String model, TokenUsage usage) {
        ModelPrice p = lookup(model);
        return p == null || usage == null ? null : p.cost(usage);
    }

    /** Model to price; models marked unknown are left out. */
    public Map<String, ModelPrice> prices() {
        Map<String, ModelPrice> m = new LinkedHashMap<>();
        prices.forEach((k, v) -> {
            if (v != null) {
                m.put(k, v);
            }
        });
        return m;
    }

    /** When the prices were taken (free text, e.g. 2025-08-20), or {@code null}. */
    public String date() {
        return date;
    }

    /** Where the table came from (for logs). */
    public String source() {
        return source;
    }

    @Override
    public String toString() {
        return "PriceTable[" + prices().size() + " models, " + (date != null ? "taken " + date + ", " : "") + source
               + "]";
    }

    public static final class Builder {
        private final Map<String, ModelPrice> prices = new TreeMap<>();
        private String date;
        private String source = "builder";

        private Builder() {
        }

        /** Sets a price in US dollars per million tokens (batch prices). */
        public Builder price(String model, String input, String cachedInput, String output) {
            return price(model, ModelPrice.of(input, cachedInput, output));
        }

        public Builder price(String model, BigDecimal input, BigDecimal cachedInput, BigDecimal output) {
            return price(model, new ModelPrice(input, cachedInput, output));
        }

        public Builder price(String model, ModelPrice price) {
            prices.put(key(model), price);
            return this;
        }

        /** Marks a model's price as unknown (its tokens are still counted). */
        public Builder unknown(String model) {
            prices.put(key(model), null);
            return this;
        }

        public Builder date(String date) {
            this.date = date;
            return this;
        }

        public Builder source(String source) {
            this.source = source;
            return this;
        }

        public PriceTable build() {
            return new PriceTable(prices, date, source);
        }

        private static String key(String model) {
            if (model == null || model.isBlank()) {
                throw new IllegalArgumentException("a model name is required");
            }
            return model.trim().toLowerCase(Locale.ROOT);
        }
    }
}
