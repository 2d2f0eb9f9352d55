package dev.camelbatch.openaibatch.engine.usage;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Renders token usage and its estimated cost as a text table (category | tokens | price):
 *
 * <pre>
 * +------------------------+-----------+-------------+
 * | Category               |    Tokens |       Price |
 * +------------------------+-----------+-------------+
 * | Prompt (uncached)      |     1,000 | $0.00007500 |
 * | Cached prompt          |       200 | $0.00000750 |
 * | Completion (reasoning) | 500 (120) | $0.00015000 |
 * +------------------------+-----------+-------------+
 * | Total                  |     1,700 | $0.00023250 |
 * +------------------------+-----------+-------------+
 * </pre>
 *
 * The rows add up: the prompt row holds the prompt tokens not served from the cache. An unknown cost reads
 * {@code unknown}.
 */
public final class UsageTable {

    /** Decimal places of the prices. */
    public static final int DEFAULT_DIGITS = 8;

    private UsageTable() {
    }

    public static String format(TokenUsage usage, UsageCost cost) {
        return format(usage, cost, DEFAULT_DIGITS);
    }

    public static String format(TokenUsage usage, UsageCost cost, int digits) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] { "Prompt (uncached)", number(usage.uncachedPromptTokens()),
                price(cost != null ? cost.prompt() : null, digits) });
        rows.add(new String[] { "Cached prompt", number(usage.cachedTokens()),
                price(cost != null ? cost.cachedPrompt() : null, digits) });
        rows.add(new String[] { "Completion (reasoning)",
                number(usage.completionTokens()) + " (" + number(usage.reasoningTokens()) + ")",
                price(cost != null ? cost.completion() : null, digits) });
        String[] total = { "Total", number(usage.totalTokens()), price(cost != null ? cost.total() : null, digits) };
        String[] head = { "Category", "Tokens", "Price" };
        int[] w = new int[3];
        for (String[] r : concat(rows, head, total)) {
            for (int i = 0; i < 3; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        String line = "+" + "-".repeat(w[0] + 2) + "+" + "-".repeat(w[1] + 2) + "+" + "-".repeat(w[2] + 2) + "+";
        StringBuilder sb = new StringBuilder();
        sb.append(line).append('\n').append(row(head, w)).append('\n').append(line).append('\n');
        for (String[] r : rows) {
            sb.append(row(r, w)).append('\n');
        }
        sb.append(line).append('\n').append(row(total, w)).append('\n').append(line);
        return sb.toString();
    }

    /** A price like {@code $0.00002543}, or {@code unknown}. */
    public static String price(BigDecimal value, int digits) {
        if (value == null) {
            return "unknown";
        }
        return "$" + value.setScale(digits, RoundingMode.HALF_UP).toPlainString();
    }

    private static String number(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static String row(String[] r, int[] w) {
        return "| " + pad(r[0], w[0], false) + " | " + pad(r[1], w[1], true) + " | " + pad(r[2], w[2], true) + " |";
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }

    private static List<String[]> concat(List<String[]> rows, String[] a, String[] b) {
        List<String[]> all = new ArrayList<>(rows);
        all.add(a);
        all.add(b);
        return all;
    }
}
