package dev.camelbatch.openaibatch.engine.usage;

import java.math.BigDecimal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** Thread-safe running usage totals of one endpoint name; one instance per name in a JVM ({@link #forName}). */
public final class UsageAccumulator {

    private static final Map<String, UsageAccumulator> BY_NAME = new ConcurrentHashMap<>();

    private final String name;
    private long since = System.currentTimeMillis();
    private long batches;
    private long unknownCost;
    private TokenUsage usage = TokenUsage.ZERO;
    private BigDecimal cost = BigDecimal.ZERO;
    private final Map<String, TokenUsage> usageByModel = new TreeMap<>();
    private final Map<String, BigDecimal> costByModel = new TreeMap<>();

    public UsageAccumulator(String name) {
        this.name = name;
    }

    /** The accumulator of an endpoint name in this JVM. */
    public static UsageAccumulator forName(String name) {
        return BY_NAME.computeIfAbsent(name, UsageAccumulator::new);
    }

    /** The totals of every endpoint name that counted something in this JVM. */
    public static Map<String, UsageTotals> all() {
        Map<String, UsageTotals> m = new LinkedHashMap<>();
        new TreeMap<>(BY_NAME).forEach((k, v) -> m.put(k, v.snapshot()));
        return m;
    }

    /** Adds a finished batch: its usage, and its cost or {@code null} when unknown. */
    public synchronized void add(String model, TokenUsage u, UsageCost c) {
        batches++;
        usage = usage.plus(u);
        String m = model != null ? model : "unknown";
        usageByModel.merge(m, u, TokenUsage::plus);
        if (c == null) {
            unknownCost++;
        } else {
            cost = cost.add(c.total());
            costByModel.merge(m, c.total(), BigDecimal::add);
        }
    }

    public synchronized UsageTotals snapshot() {
        return new UsageTotals(name, batches, unknownCost, usage, cost,
                Collections.unmodifiableMap(new LinkedHashMap<>(usageByModel)),
                Collections.unmodifiableMap(new LinkedHashMap<>(costByModel)), since);
    }

    public synchronized void reset() {
        since = System.currentTimeMillis();
        batches = 0;
        unknownCost = 0;
        usage = TokenUsage.ZERO;
        cost = BigDecimal.ZERO;
        usageByModel.clear();
        costByModel.clear();
    }

    public String name() {
        return name;
    }
}
