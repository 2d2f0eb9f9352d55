package dev.camelbatch.openaibatch.monitor;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.camelbatch.openaibatch.engine.BatchEvent;
import dev.camelbatch.openaibatch.engine.EmittedLine;
import dev.camelbatch.openaibatch.engine.EngineListener;
import dev.camelbatch.openaibatch.engine.LineSink;
import dev.camelbatch.openaibatch.engine.lines.OutputLine;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.usage.BatchProgress;
import dev.camelbatch.openaibatch.engine.usage.PriceTable;
import dev.camelbatch.openaibatch.engine.usage.ProgressTracker;
import dev.camelbatch.openaibatch.engine.usage.TokenUsage;
import dev.camelbatch.openaibatch.engine.usage.UsageAccumulator;
import dev.camelbatch.openaibatch.engine.usage.UsageCost;
import dev.camelbatch.openaibatch.engine.usage.UsageTable;
import dev.camelbatch.openaibatch.engine.usage.UsageTotals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches an engine from the outside, through its {@link EngineListener} and {@link LineSink}: progress of every
 * batch in flight (logged every {@code progressLogInterval}), usage and estimated cost of every finished batch (a
 * usage table logged when its last line is delivered, running totals per endpoint name in a
 * {@link UsageAccumulator}).
 * <p>
 * The usage of a batch is {@code batch.usage} when the API reports it, else the sum of the {@code usage} of the
 * lines delivered by this JVM (lines delivered before a restart are not in that sum).
 */
public final class UsageWatch {

    /** The log category of the usage tables, as docs/cost.md names it for users to filter on. */
    private static final Logger LOG = LoggerFactory.getLogger("dev.camelbatch.openaibatch.engine.BatchMonitor");

    /** Where the usage of a batch comes from. */
    public static final String SOURCE_BATCH = "batch";
    public static final String SOURCE_LINES = "lines";

    private final String name;
    private final PriceTable prices;
    private final UsageAccumulator totals;
    private final ProgressTracker progress;
    private final Map<String, LineUsage> lineUsage = new ConcurrentHashMap<>();
    private final ThreadLocal<Dispatch> dispatching = new ThreadLocal<>();

    /**
     * What the monitor knows about a batch at an event.
     *
     * @param progress    the batch's progress, or {@code null}
     * @param usage       its usage (when it has finished and the usage is known), else {@code null}
     * @param usageSource {@link #SOURCE_BATCH} or {@link #SOURCE_LINES}, or {@code null}
     * @param model       the model the usage is priced for
     * @param cost        the estimated cost, or {@code null} when unknown
     */
    public record EventInfo(BatchProgress progress, TokenUsage usage, String usageSource, String model,
            UsageCost cost) {
        static final EventInfo NONE = new EventInfo(null, null, null, null, null);
    }

    private record Dispatch(BatchEvent event, EventInfo info) {
    }

    private static final class LineUsage {
        TokenUsage usage = TokenUsage.ZERO;
        String responseModel;
    }

    public UsageWatch(String name, PriceTable prices, UsageAccumulator totals, long progressLogIntervalMillis) {
        this.name = name;
        this.prices = prices != null ? prices : PriceTable.defaults();
        this.totals = totals;
        this.progress = new ProgressTracker(progressLogIntervalMillis);
    }

    /** A sink that delivers to {@code sink} and counts the usage of the lines delivered successfully. */
    public LineSink wrap(LineSink sink) {
        return line -> {
            boolean ok = sink.deliver(line);
            if (ok) {
                count(line);
            }
            return ok;
        };
    }

    /** A listener that updates this monitor, then calls {@code listener} (which may call {@link #info}). */
    public EngineListener wrap(EngineListener listener) {
        return event -> {
            EventInfo info;
            try {
                info = onEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("Batch engine '{}': usage and progress accounting failed: {}", name, e.toString());
                info = EventInfo.NONE;
            }
            dispatching.set(new Dispatch(event, info));
            try {
                if (listener != null) {
                    listener.onEvent(event);
                }
            } finally {
                dispatching.remove();
            }
        };
    }

    /** What the monitor knows at the event being dispatched (called from the wrapped listener). */
    public EventInfo info(BatchEvent event) {
        Dispatch d = dispatching.get();
        return d != null && d.event() == event ? d.info() : EventInfo.NONE;
    }

    public List<BatchProgress> progress() {
        return progress.all();
    }

    public UsageTotals totals() {
        return totals.snapshot();
    }

    public PriceTable prices() {
        return prices;
    }

    private void count(EmittedLine line) {
        OutputLine out = line.line();
        if (out == null || !out.isObject() || !out.bodyIsObject() || line.segment() == null) {
            return;
        }
        TokenUsage u = out.usage();
        if (u == null) {
            return;
        }
        LineUsage lu = lineUsage.computeIfAbsent(line.segment().getId(), k -> new LineUsage());
        synchronized (lu) {
            lu.usage = lu.usage.plus(u);
            if (lu.responseModel == null && out.model() != null) {
                lu.responseModel = out.model();
            }
        }
    }

    EventInfo onEvent(BatchEvent event) {
        SegmentInfo s = event.segment();
        if (s == null) {
            return EventInfo.NONE;
        }
        long now = System.currentTimeMillis();
        BatchProgress p = null;
        switch (event.type()) {
            case SUBMITTED, PROGRESS, STUCK, COMPLETED, EXPIRED, CANCELLED, FAILED -> {
                if (event.batch() != null && event.batch().getId() != null) {
                    p = progress.update(event.batch(), now);
                } else if (s.getBatchId() != null) {
                    p = progress.update(s.getBatchId(), s.getBatchStatus(), s.getCompleted(), s.getFailed(),
                            s.getTotal(), null, now);
                }
                if (p != null && event.type() == BatchEvent.Type.PROGRESS && progress.dueForLog(p.batchId(), now)) {
                    LOG.info("Batch engine '{}': batch {} {}", name, p.batchId(), p.describe());
                }
            }
            case DONE -> p = progress.get(s.getBatchId());
            default -> {
                return EventInfo.NONE;
            }
        }
        EventInfo info = new EventInfo(p, null, null, null, null);
        switch (event.type()) {
            case COMPLETED, EXPIRED, CANCELLED -> {
                TokenUsage u = event.batch() != null ? TokenUsage.of(event.batch().getUsage()) : null;
                if (u == null) {
                    u = recorded(s);
                }
                if (u != null) {
                    String model = pricedModel(s.getModel(), event.batch() != null ? event.batch().getModel() : null);
                    info = new EventInfo(p, u, SOURCE_BATCH, model, prices.cost(model, u));
                }
            }
            case FAILED -> progress.remove(s.getBatchId());
            case DONE -> {
                info = done(s, p);
                progress.remove(s.getBatchId());
            }
            default -> {
            }
        }
        return info;
    }

    private EventInfo done(SegmentInfo s, BatchProgress p) {
        LineUsage lu = lineUsage.remove(s.getId());
        TokenUsage fromBatch = recorded(s);
        TokenUsage usage;
        String source;
        if (fromBatch != null) {
            usage = fromBatch;
            source = SOURCE_BATCH;
        } else if (lu != null) {
            usage = lu.usage;
            source = SOURCE_LINES;
        } else {
            usage = TokenUsage.ZERO;
            source = SOURCE_LINES;
        }
        String model = pricedModel(s.getModel(), lu != null ? lu.responseModel : null);
        UsageCost cost = prices.cost(model, usage);
        totals.add(s.getModel() != null ? s.getModel() : model, usage, cost);
        if (!usage.isZero() && LOG.isInfoEnabled()) {
            String key = prices.matchingKey(model);
            String note = cost != null
                    ? "cost estimated with the batch price of '" + key + "'"
                      + (prices.date() != null ? ", prices of " + prices.date() : "")
                    : "cost unknown: no price for model " + model;
            LOG.info("Batch engine '{}': usage of batch {} ({} requests, model {}, tokens from {}; {}):\n{}", name,
                    s.getBatchId(), s.getRequestCount(), model, source, note, UsageTable.format(usage, cost));
        }
        return new EventInfo(p, usage, source, model, cost);
    }

    /** The requested model when it has a price, else the served model when that has one, else the requested one. */
    private String pricedModel(String requested, String served) {
        if (requested != null && prices.lookup(requested) != null) {
            return requested;
        }
        if (served != null && prices.lookup(served) != null) {
            return served;
        }
        return requested != null ? requested : served;
    }

    /** The batch usage recorded on a segment when its batch finished, or {@code null}. */
    private static TokenUsage recorded(SegmentInfo s) {
        return s == null ? null
                : TokenUsage.of(s.getInputTokens(), s.getCachedTokens(), s.getOutputTokens(), s.getReasoningTokens());
    }
}
