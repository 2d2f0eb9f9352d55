package dev.camelbatch.examples.filedrop;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.engine.usage.PriceTable;
import dev.camelbatch.openaibatch.engine.usage.TokenUsage;
import dev.camelbatch.openaibatch.engine.usage.UsageCost;
import dev.camelbatch.openaibatch.engine.usage.UsageTable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * What the example has done so far: files accepted and refused, batch events (per batch: completed, failed and total
 * requests as the API reports them), results written and the tokens they used. Drives the live progress bar and
 * prints the summary with the usage table.
 */
public final class Progress {

    /** One batch as the last event told. */
    private record BatchState(String event, int completed, int failed, int total) {
    }

    /** Characters of the bar's line: fits a terminal of 80 columns. */
    public static final int BAR_WIDTH = 79;

    private final boolean showBar;
    private final long startNanos = System.nanoTime();
    private final Map<String, BatchState> batches = new LinkedHashMap<>();
    private final Map<String, Long> sentiments = new TreeMap<>();
    private final List<String> accepted = new ArrayList<>();
    private final List<String> refused = new ArrayList<>();
    private long spooled;
    private long results;
    private long errors;
    private long promptTokens;
    private long completionTokens;
    private long totalTokens;
    private ProgressBar bar;
    private Runnable onChange = () -> { };

    private String model;

    public Progress(boolean showBar) {
        this.showBar = showBar;
    }

    /** Called (outside the lock) after every change, e.g. to stop the demo once everything is done. */
    public void onChange(Runnable r) {
        this.onChange = r;
    }

    public void fileAccepted(String file, long rows) {
        synchronized (this) {
            accepted.add(file + " (" + rows + " reviews)");
            spooled += rows;
            if (showBar) {
                if (bar == null) {
                    // redrawn in place with a carriage return on stdout; a log line (which starts by blanking the
                    // bar's line, see FileDropApplication.main) replaces it and the bar goes on below
                    bar = new ProgressBarBuilder().setTaskName("Reviews").setInitialMax(spooled)
                            .setStyle(ProgressBarStyle.UNICODE_BLOCK).setUpdateIntervalMillis(100)
                            .setConsumer(new ConsoleProgressBarConsumer(System.out, BAR_WIDTH))
                            .continuousUpdate().build();
                } else {
                    bar.maxHint(spooled);
                }
            }
            render();
        }
        onChange.run();
    }

    public void fileRefused(String file, String reason) {
        synchronized (this) {
            refused.add(file + ": " + reason);
        }
        onChange.run();
    }

    /** A batch event: CamelOpenAIBatchEventType and the counts of the batch. */
    public void batchEvent(String batchId, String type, Integer completed, Integer failed, Integer total) {
        if (batchId == null) {
            return;
        }
        synchronized (this) {
            BatchState before = batches.get(batchId);
            batches.put(batchId, new BatchState(type, nz(completed, before == null ? 0 : before.completed),
                    nz(failed, before == null ? 0 : before.failed), nz(total, before == null ? 0 : before.total)));
            render();
        }
        onChange.run();
    }

    /** A result line: its sentiment (or error) and its token counts. */
    public void result(String sentiment, boolean error, Long prompt, Long completion, Long total) {
        synchronized (this) {
            results++;
            if (error) {
                errors++;
            }
            sentiments.merge(error ? "error" : Sentiment.category(sentiment), 1L, Long::sum);
            promptTokens += prompt == null ? 0 : prompt;
            completionTokens += completion == null ? 0 : completion;
            totalTokens += total != null ? total : (prompt == null ? 0 : prompt) + (completion == null ? 0 : completion);
            render();
        }
        onChange.run();
    }

    private static int nz(Integer v, int fallback) {
        return v == null ? fallback : v;
    }

    private void render() {
        if (bar == null) {
            return;
        }
        long apiDone = 0;
        int finished = 0;
        for (BatchState b : batches.values()) {
            apiDone += b.completed + b.failed;
            if (b.event.equals("COMPLETED") || b.event.equals("DONE") || b.event.equals("EXPIRED")
                || b.event.equals("FAILED") || b.event.equals("CANCELLED")) {
                finished++;
            }
        }
        // the API's own count moves while a batch runs; the results written catch up when it is downloaded
        bar.stepTo(Math.min(spooled, Math.max(apiDone, results)));
        bar.setExtraMessage(String.format(" batches %d/%d, written %d", finished, batches.size(), results));
    }

    public synchronized long spooled() {
        return spooled;
    }

    public synchronized long results() {
        return results;
    }

    public synchronized int filesHandled() {
        return accepted.size() + refused.size();
    }

    public synchronized List<String> refused() {
        return List.copyOf(refused);
    }

    public synchronized Map<String, Long> sentiments() {
        return Map.copyOf(sentiments);
    }

    public synchronized long promptTokens() {
        return promptTokens;
    }

    public synchronized long completionTokens() {
        return completionTokens;
    }

    public synchronized long totalTokens() {
        return totalTokens;
    }

    public synchronized int batchCount() {
        return batches.size();
    }

    /** Closes the progress bar (its last state stays on screen). */
    public synchronized void closeBar() {
        if (bar != null) {
            render();
            bar.close();
            bar = null;
        }
    }

    /** The model the requests use, for the price column of the usage table. */
    public synchronized void model(String model) {
        this.model = model;
    }

    /**
     * The usage table: tokens by category and their estimated batch price from the component's price table
     * ({@code unknown} for a model without a price, such as the simulator's answers under another name).
     */
    public synchronized String usageTable() {
        TokenUsage usage = new TokenUsage(promptTokens, 0, completionTokens, 0);
        UsageCost cost = model != null ? PriceTable.defaults().cost(model, usage) : null;
        return UsageTable.format(usage, cost);
    }

    public void printSummary(PrintStream out, String resultsFile, boolean demo) {
        closeBar();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        synchronized (this) {
            out.println();
            out.printf("Done: %d of %d reviews classified (%d failed) in %d batch(es), %.1f s%n", results, spooled,
                    errors, batches.size(), ms / 1000.0);
            for (String a : accepted) {
                out.println("  accepted  " + a + " -> inbox/.done");
            }
            for (String r : refused) {
                out.println("  refused   " + r + " -> inbox/.error");
            }
            out.println("Sentiments:");
            sentiments.forEach((k, v) -> out.printf("  %-10s %d%n", k, v));
            if (demo) {
                out.println("  (the simulator is no model: it answers 'Echo: <review>', so these are 'other' and the"
                            + " sentiment column holds the echo; set OPENAI_API_KEY for real sentiments)");
            }
            out.println("Usage:");
            out.println(usageTable());
            out.println("Results: " + resultsFile);
        }
    }
}
