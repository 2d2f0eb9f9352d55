package dev.camelbatch.openaibatch.monitor;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.ToDoubleFunction;

import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import dev.camelbatch.openaibatch.engine.BatchEvent;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.apache.camel.CamelContext;

/**
 * The Micrometer meters of one endpoint name, all tagged {@code name=<endpoint name>} and read from its
 * {@link OpenAIBatchMonitor} (function counters and gauges: nothing is counted twice). Loaded only through
 * {@link OpenAIBatchMetrics} when Micrometer is on the class path.
 * <p>
 * Meters: {@value #PREFIX}{@code requests.spooled}, {@code documents.spooled}, {@code segments.sealed},
 * {@code batches.created}, {@code batches.done}, {@code batch.events} (tag {@code type}), {@code lines.emitted} (tags
 * {@code kind} = result|error and {@code code} = error code or HTTP status, "other" for a code that is not known, see
 * {@link LineCodes}), {@code requests.resubmitted},
 * {@code submit.failures}, {@code download.retries}, {@code tokens} (tag {@code type} = input|cached|output|reasoning),
 * {@code poll.calls}, {@code poll.cycles}; gauges {@code segments} (tag {@code state}: the segment status; "batches
 * by state"), {@code requests.waiting}, {@code batches.in.flight}, {@code auth.refused} (1 while the key is refused),
 * {@code cost.estimated} (US dollars, finished batches).
 */
public final class OpenAIBatchMicrometer implements AutoCloseable {

    public static final String PREFIX = "camel.openai.batch.";

    private final MeterRegistry registry;
    private final OpenAIBatchMonitor monitor;
    private final Tags tags;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final BiConsumer<String, String> onNewCode = this::lineCounter;

    private OpenAIBatchMicrometer(MeterRegistry registry, OpenAIBatchMonitor monitor) {
        this.registry = registry;
        this.monitor = monitor;
        this.tags = Tags.of("name", monitor.name());
    }

    /**
     * Binds a runtime to a registry: {@code configured} if it is a MeterRegistry, else the single MeterRegistry of
     * the Camel registry; nothing when there is none.
     */
    static void bind(OpenAIBatchRuntime runtime, Object configured, CamelContext context) {
        MeterRegistry registry;
        if (configured instanceof MeterRegistry mr) {
            registry = mr;
        } else if (configured != null) {
            throw new IllegalArgumentException("meterRegistry is not a MeterRegistry: " + configured.getClass());
        } else {
            registry = context.getRegistry().findSingleByType(MeterRegistry.class);
        }
        if (registry == null) {
            return;
        }
        runtime.bindOnce(registry, () -> new OpenAIBatchMicrometer(registry, runtime.monitor()).register());
    }

    private OpenAIBatchMicrometer register() {
        OpenAIBatchMonitor m = monitor;
        counter("requests.spooled", "Requests spooled by producers", Tags.empty(), OpenAIBatchMonitor::requestsSpooled);
        counter("documents.spooled", "JSONL documents spooled by producers", Tags.empty(),
                OpenAIBatchMonitor::documentsSpooled);
        counter("segments.sealed", "Segments (batches to be) sealed", Tags.empty(), OpenAIBatchMonitor::segmentsSealed);
        counter("batches.created", "Batches created", Tags.empty(), OpenAIBatchMonitor::batchesCreated);
        counter("batches.done", "Batches whose every line was delivered", Tags.empty(),
                OpenAIBatchMonitor::batchesDone);
        for (BatchEvent.Type t : BatchEvent.Type.values()) {
            counter("batch.events", "Batch events by type", Tags.of("type", t.name()), x -> x.events(t));
        }
        counter("requests.resubmitted", "Requests resubmitted as a new attempt", Tags.empty(),
                OpenAIBatchMonitor::requestsResubmitted);
        counter("submit.failures", "Failed attempts to upload a file or create a batch", Tags.empty(),
                OpenAIBatchMonitor::submitFailures);
        counter("download.retries", "Output or error file downloads tried again", Tags.empty(),
                OpenAIBatchMonitor::downloadRetries);
        counter("tokens", "Tokens of finished batches", Tags.of("type", "input"), OpenAIBatchMonitor::inputTokens);
        counter("tokens", "Tokens of finished batches", Tags.of("type", "cached"), OpenAIBatchMonitor::cachedTokens);
        counter("tokens", "Tokens of finished batches", Tags.of("type", "output"), OpenAIBatchMonitor::outputTokens);
        counter("tokens", "Tokens of finished batches", Tags.of("type", "reasoning"),
                OpenAIBatchMonitor::reasoningTokens);
        counter("poll.calls", "Status calls to the API", Tags.empty(), OpenAIBatchMonitor::pollCalls);
        counter("poll.cycles", "Poll cycles of the engine", Tags.empty(), OpenAIBatchMonitor::pollCycles);
        for (SegmentStatus st : SegmentStatus.values()) {
            if (st != SegmentStatus.DONE && st != SegmentStatus.STAGING) {
                gauge("segments", "Segments by state", Tags.of("state", st.name()), x -> x.snapshot().segments(st));
            }
        }
        gauge("requests.waiting", "Requests spooled and not yet submitted", Tags.empty(),
                x -> x.snapshot().requestsWaiting());
        gauge("batches.in.flight", "Batches being submitted or running", Tags.empty(),
                x -> x.snapshot().batchesInFlight());
        gauge("auth.refused", "1 while the API refuses the key", Tags.empty(), x -> x.authProblem() != null ? 1 : 0);
        meters.add(Gauge.builder(PREFIX + "cost.estimated", monitor, x -> x.usage().estimatedCost().doubleValue())
                .description("Estimated cost of the finished batches in US dollars (batch prices of the price table)")
                .baseUnit("usd").tags(tags).strongReference(false).register(registry));
        m.onNewLineCode(onNewCode);
        for (String key : m.linesByCode().keySet()) {
            int bar = key.indexOf('|');
            lineCounter(key.substring(0, bar), key.substring(bar + 1));
        }
        return this;
    }

    private void lineCounter(String kind, String code) {
        counter("lines.emitted", "Lines delivered by the consumer", Tags.of("kind", kind, "code", code),
                x -> x.lines(kind, code));
    }

    private void counter(String name, String description, Tags extra, ToDoubleFunction<OpenAIBatchMonitor> f) {
        meters.add(FunctionCounter.builder(PREFIX + name, monitor, f).description(description).tags(tags.and(extra))
                .register(registry));
    }

    private void gauge(String name, String description, Tags extra, ToDoubleFunction<OpenAIBatchMonitor> f) {
        meters.add(Gauge.builder(PREFIX + name, monitor, f).description(description).tags(tags.and(extra))
                .strongReference(false).register(registry));
    }

    /** Removes the meters (the runtime of the name closed). */
    @Override
    public void close() {
        monitor.removeNewLineCodeListener(onNewCode);
        for (Meter meter : meters) {
            registry.remove(meter);
        }
        meters.clear();
    }
}
