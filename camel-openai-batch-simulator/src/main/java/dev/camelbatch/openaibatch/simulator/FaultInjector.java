package dev.camelbatch.openaibatch.simulator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * Injects faults into the simulator's HTTP calls.
 *
 * <p>A route pattern is {@code "METHOD /v1/path"} where {@code *} (or {@code {id}}) stands for one path segment,
 * e.g. {@code "POST /v1/batches"}, {@code "GET /v1/files/*}{@code /content"}, {@code "* /v1/batches/*"}; the
 * pattern {@code "*"} alone matches every call. Patterns are matched against the canonical OpenAI form of the
 * request path ({@code /v1/...}) in both modes; in Azure mode a pattern written with {@code /openai/...} is accepted
 * too. The admin routes under {@code /__simulator/} are never faulted.
 *
 * <p>{@link #nextCalls} rules are consumed first (oldest rule first), then {@link #probability} rules are tried in
 * the order they were added, drawing from a {@link Random} seeded with the simulator's seed.
 */
public final class FaultInjector {

    private final List<Rule> rules = new ArrayList<>();
    private final Map<Fault, Long> injected = new EnumMap<>(Fault.class);
    private final long seed;
    private Random random;
    private volatile Duration slowResponseDelay = Duration.ofSeconds(2);
    private final java.util.concurrent.atomic.AtomicLong answersHeld = new java.util.concurrent.atomic.AtomicLong();

    FaultInjector(long seed) {
        this.seed = seed;
        this.random = new Random(seed);
    }

    /** The next {@code n} calls matching {@code routePattern} fail with {@code fault}. */
    public synchronized FaultInjector nextCalls(String routePattern, int n, Fault fault) {
        Objects.requireNonNull(fault, "fault");
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0");
        }
        rules.add(new Rule(routePattern, compile(routePattern), fault, n, 0.0));
        return this;
    }

    /** Every call matching {@code routePattern} fails with {@code fault} with probability {@code p} (0..1). */
    public synchronized FaultInjector probability(String routePattern, double p, Fault fault) {
        Objects.requireNonNull(fault, "fault");
        if (p < 0.0 || p > 1.0) {
            throw new IllegalArgumentException("p must be within 0..1");
        }
        rules.add(new Rule(routePattern, compile(routePattern), fault, -1, p));
        return this;
    }

    /** The routes that change state: every {@code POST} and {@code DELETE} of the Files and Batch API. */
    public static final List<String> STATE_CHANGING_ROUTES = List.of("POST /v1/files", "DELETE /v1/files/*",
            "POST /v1/batches", "POST /v1/batches/*/cancel");

    /**
     * Every {@link #STATE_CHANGING_ROUTES state-changing call} takes effect and then loses its answer with
     * probability {@code p}: half of those as {@link Fault#LOST_RESPONSE} (the connection closes), half as
     * {@link Fault#SERVER_ERROR_AFTER_EFFECT} (a 500 answer).
     */
    public synchronized FaultInjector lostAnswers(double p) {
        for (String route : STATE_CHANGING_ROUTES) {
            probability(route, p / 2, Fault.LOST_RESPONSE);
            // the second rule is tried only when the first did not fire: p/2 / (1 - p/2) keeps the total at p
            probability(route, p >= 1.0 ? 1.0 : (p / 2) / (1 - p / 2), Fault.SERVER_ERROR_AFTER_EFFECT);
        }
        return this;
    }

    /** How long {@link Fault#SLOW_RESPONSE} delays a call (default 2 s). */
    public FaultInjector slowResponseDelay(Duration delay) {
        this.slowResponseDelay = Objects.requireNonNull(delay, "delay");
        return this;
    }

    public Duration slowResponseDelay() {
        return slowResponseDelay;
    }

    /**
     * How many answers {@link Fault#HELD_ANSWER} has begun to hold (each counted once its call has taken effect);
     * not reset by {@link #clear()}.
     */
    public long answersHeld() {
        return answersHeld.get();
    }

    void holdAnswer() throws InterruptedException {
        answersHeld.incrementAndGet();
        Thread.sleep(slowResponseDelay.toMillis());
    }

    /** Removes all rules and resets the counters and the random sequence. */
    public synchronized void clear() {
        rules.clear();
        injected.clear();
        random = new Random(seed);
    }

    /** How many times each fault has been injected since the last {@link #clear()}. */
    public synchronized Map<Fault, Long> injected() {
        return Map.copyOf(injected);
    }

    /** Picks the fault for a call, or {@code null}; {@code call} is "METHOD /v1/path". */
    synchronized Fault pick(String call) {
        if (rules.isEmpty()) {
            return null;
        }
        for (Iterator<Rule> it = rules.iterator(); it.hasNext();) {
            Rule r = it.next();
            if (r.remaining >= 0 && r.pattern.matcher(call).matches()) {
                if (r.remaining == 0) {
                    it.remove();
                    continue;
                }
                r.remaining--;
                if (r.remaining == 0) {
                    it.remove();
                }
                return count(r.fault);
            }
        }
        for (Rule r : rules) {
            if (r.remaining < 0 && r.pattern.matcher(call).matches() && random.nextDouble() < r.probability) {
                return count(r.fault);
            }
        }
        return null;
    }

    private Fault count(Fault f) {
        injected.merge(f, 1L, Long::sum);
        return f;
    }

    static Pattern compile(String routePattern) {
        Objects.requireNonNull(routePattern, "routePattern");
        String p = routePattern.trim();
        if (p.equals("*")) {
            return Pattern.compile(".*", Pattern.DOTALL);
        }
        if (p.startsWith("/")) {
            p = "* " + p;
        }
        // accept Azure-style patterns: "GET /openai/batches" == "GET /v1/batches"
        int space = p.indexOf(' ');
        if (space > 0 && p.startsWith("/openai/", space + 1)) {
            p = p.substring(0, space + 1) + "/v1/" + p.substring(space + 1 + "/openai/".length());
        }
        p = p.replace("{id}", "*");
        if (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        StringBuilder regex = new StringBuilder();
        int start = 0;
        for (int i = 0; i < p.length(); i++) {
            if (p.charAt(i) == '*') {
                regex.append(Pattern.quote(p.substring(start, i))).append("[^/ ]*");
                start = i + 1;
            }
        }
        regex.append(Pattern.quote(p.substring(start)));
        return Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE);
    }

    private static final class Rule {
        final String source;
        final Pattern pattern;
        final Fault fault;
        int remaining; // -1 = probability rule
        final double probability;

        Rule(String source, Pattern pattern, Fault fault, int remaining, double probability) {
            this.source = source;
            this.pattern = pattern;
            this.fault = fault;
            this.remaining = remaining;
            this.probability = probability;
        }

        @Override
        public String toString() {
            return source + " -> " + fault;
        }
    }
}
