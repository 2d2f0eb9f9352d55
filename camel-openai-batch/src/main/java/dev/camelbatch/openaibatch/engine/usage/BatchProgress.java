package dev.camelbatch.openaibatch.engine.usage;

import java.util.Locale;

/**
 * Progress of one batch as last observed.
 *
 * @param batchId       the batch
 * @param status        its status (validating, in_progress, finalizing, completed, ...)
 * @param completed     requests completed
 * @param failed        requests failed
 * @param total         requests in the batch (0 while validating)
 * @param percent       (completed + failed) / total in percent, one decimal; 100 once the batch is terminal
 * @param ratePerSecond requests finished per second since progress was first seen, or {@code null} before it can
 *                      be measured
 * @param etaSeconds    estimated seconds until every request is finished at that rate, or {@code null} when unknown
 *                      (0 once terminal)
 * @param observedAt    when it was observed (epoch milliseconds)
 */
public record BatchProgress(String batchId, String status, int completed, int failed, int total, double percent,
        Double ratePerSecond, Long etaSeconds, long observedAt) {

    public int done() {
        return completed + failed;
    }

    /** E.g. {@code in_progress 1,234/5,000 (24.7%), 3 failed, 12.3 req/s, ETA 5m 06s}. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(status).append(' ').append(String.format(Locale.ROOT, "%,d/%,d (%.1f%%)", done(), total, percent));
        if (failed > 0) {
            sb.append(", ").append(String.format(Locale.ROOT, "%,d", failed)).append(" failed");
        }
        if (ratePerSecond != null) {
            sb.append(", ").append(String.format(Locale.ROOT, ratePerSecond < 10 ? "%.2f" : "%.1f", ratePerSecond))
                    .append(" req/s");
        }
        sb.append(", ETA ").append(etaSeconds == null ? "unknown" : duration(etaSeconds));
        return sb.toString();
    }

    /** 45s, 5m 06s, 2h 03m. */
    public static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%dm %02ds", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%dh %02dm", seconds / 3600, (seconds % 3600) / 60);
    }
}
