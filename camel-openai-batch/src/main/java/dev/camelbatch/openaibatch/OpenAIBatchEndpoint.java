package dev.camelbatch.openaibatch;

import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchConsumerHealthCheck;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchMetrics;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchMonitor;
import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.api.management.ManagedAttribute;
import org.apache.camel.api.management.ManagedResource;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriPath;
import org.apache.camel.support.DefaultEndpoint;

/**
 * Send large LLM workloads through the OpenAI Batch API: requests are spooled durably, cut into batches, submitted,
 * polled, and their results emitted one exchange per line.
 * <p>
 * Through JMX (Camel's management, {@code type=endpoints}) the endpoint shows what its name has done in this JVM: the
 * same counters as the Micrometer meters and the dev console.
 */
@ManagedResource(description = "Managed OpenAI Batch endpoint")
@UriEndpoint(firstVersion = "0.1.0", scheme = "openai-batch", title = "OpenAI Batch", syntax = "openai-batch:name",
             category = { Category.AI }, headersClass = OpenAIBatchConstants.class)
public class OpenAIBatchEndpoint extends DefaultEndpoint {

    @UriPath(description = "The logical queue: a producer of this name fills it, the consumer of the same name"
                           + " drains it (in the same or another CamelContext sharing the store).")
    @Metadata(required = true)
    private String name;

    @UriParam
    private OpenAIBatchConfiguration configuration;

    public OpenAIBatchEndpoint(String uri, OpenAIBatchComponent component, OpenAIBatchConfiguration configuration) {
        super(uri, component);
        this.configuration = configuration;
    }

    @Override
    public OpenAIBatchComponent getComponent() {
        return (OpenAIBatchComponent) super.getComponent();
    }

    @Override
    public Producer createProducer() throws Exception {
        return new OpenAIBatchProducer(this);
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        OpenAIBatchConsumer consumer = new OpenAIBatchConsumer(this, processor);
        configureConsumer(consumer);
        // health checks are optional: only when the context has a registry (camel-health), as camel-kafka does
        if (HealthCheckRegistry.get(getCamelContext()) != null
            && HealthCheckHelper.getHealthCheckRepository(getCamelContext(), "consumers") != null) {
            // readiness of the API, reported by Camel's consumers repository with the route's state
            OpenAIBatchConsumerHealthCheck check = new OpenAIBatchConsumerHealthCheck(consumer);
            check.setEnabled(getComponent().isHealthCheckConsumerEnabled());
            consumer.setHealthCheck(check);
        }
        return consumer;
    }

    @Override
    public boolean isSingletonProducer() {
        return true;
    }

    /** The shared runtime (store, engine, client) of this endpoint's name. */
    OpenAIBatchRuntime acquireRuntime() throws Exception {
        OpenAIBatchRuntime rt = OpenAIBatchRuntime.acquire(this);
        OpenAIBatchMetrics.bind(getComponent(), rt, getCamelContext());
        return rt;
    }

    /** What this endpoint's name has done in this JVM, or {@code null} while no producer or consumer of it runs. */
    public OpenAIBatchMonitor getMonitor() {
        OpenAIBatchRuntime rt = OpenAIBatchRuntime.peek(this);
        return rt != null ? rt.monitor() : null;
    }

    private long monitored(java.util.function.ToLongFunction<OpenAIBatchMonitor> f) {
        OpenAIBatchMonitor m = getMonitor();
        return m != null ? f.applyAsLong(m) : 0;
    }

    @ManagedAttribute(description = "The endpoint name (logical queue)")
    public String getQueueName() {
        return name;
    }

    @ManagedAttribute(description = "Whether the engine of this name runs in this JVM (a consumer is started)")
    public boolean isEngineRunning() {
        OpenAIBatchMonitor m = getMonitor();
        return m != null && m.isEngineRunning();
    }

    @ManagedAttribute(description = "The reason the API refused the key (401/403), or empty")
    public String getAuthProblem() {
        OpenAIBatchMonitor m = getMonitor();
        String p = m != null ? m.authProblem() : null;
        return p != null ? p : "";
    }

    @ManagedAttribute(description = "Requests spooled since the name was opened in this JVM")
    public long getRequestsSpooled() {
        return monitored(OpenAIBatchMonitor::requestsSpooled);
    }

    @ManagedAttribute(description = "Segments sealed (by count, size, tokens, age or flush)")
    public long getSegmentsSealed() {
        return monitored(OpenAIBatchMonitor::segmentsSealed);
    }

    @ManagedAttribute(description = "Requests spooled and not yet submitted")
    public long getRequestsWaiting() {
        return monitored(m -> m.snapshot().requestsWaiting());
    }

    @ManagedAttribute(description = "Open segments (accepting requests)")
    public long getOpenSegments() {
        return monitored(m -> m.snapshot().segments(SegmentStatus.OPEN));
    }

    @ManagedAttribute(description = "Sealed segments waiting for submission")
    public long getSealedSegments() {
        return monitored(m -> m.snapshot().segments(SegmentStatus.SEALED));
    }

    @ManagedAttribute(description = "Batches being uploaded, created or running")
    public long getBatchesInFlight() {
        return monitored(m -> m.snapshot().batchesInFlight());
    }

    @ManagedAttribute(description = "Finished batches whose lines are being delivered")
    public long getBatchesFinished() {
        return monitored(m -> m.snapshot().segments(SegmentStatus.FINISHED));
    }

    @ManagedAttribute(description = "Batches created")
    public long getBatchesCreated() {
        return monitored(OpenAIBatchMonitor::batchesCreated);
    }

    @ManagedAttribute(description = "Batches whose every line was delivered")
    public long getBatchesDone() {
        return monitored(OpenAIBatchMonitor::batchesDone);
    }

    @ManagedAttribute(description = "Batches that failed")
    public long getBatchesFailed() {
        return monitored(m -> m.events(dev.camelbatch.openaibatch.engine.BatchEvent.Type.FAILED));
    }

    @ManagedAttribute(description = "Batches reported stuck")
    public long getBatchesStuck() {
        return monitored(m -> m.events(dev.camelbatch.openaibatch.engine.BatchEvent.Type.STUCK));
    }

    @ManagedAttribute(description = "Result lines delivered")
    public long getResultLinesEmitted() {
        return monitored(OpenAIBatchMonitor::resultLines);
    }

    @ManagedAttribute(description = "Error lines (failed requests) delivered")
    public long getErrorLinesEmitted() {
        return monitored(OpenAIBatchMonitor::errorLines);
    }

    @ManagedAttribute(description = "Delivered lines by kind and code (result|200=12, error|batch_expired=1, ...)")
    public String getLinesByCode() {
        OpenAIBatchMonitor m = getMonitor();
        return m != null ? m.linesByCode().toString() : "{}";
    }

    @ManagedAttribute(description = "Requests resubmitted as a new attempt")
    public long getRequestsResubmitted() {
        return monitored(OpenAIBatchMonitor::requestsResubmitted);
    }

    @ManagedAttribute(description = "Failed attempts to upload a file or create a batch")
    public long getSubmitFailures() {
        return monitored(OpenAIBatchMonitor::submitFailures);
    }

    @ManagedAttribute(description = "Output or error file downloads tried again")
    public long getDownloadRetries() {
        return monitored(OpenAIBatchMonitor::downloadRetries);
    }

    @ManagedAttribute(description = "Status calls to the API")
    public long getPollCalls() {
        return monitored(OpenAIBatchMonitor::pollCalls);
    }

    @ManagedAttribute(description = "Input tokens of finished batches")
    public long getInputTokens() {
        return monitored(OpenAIBatchMonitor::inputTokens);
    }

    @ManagedAttribute(description = "Cached input tokens of finished batches")
    public long getCachedTokens() {
        return monitored(OpenAIBatchMonitor::cachedTokens);
    }

    @ManagedAttribute(description = "Output tokens of finished batches")
    public long getOutputTokens() {
        return monitored(OpenAIBatchMonitor::outputTokens);
    }

    @ManagedAttribute(description = "Reasoning tokens of finished batches")
    public long getReasoningTokens() {
        return monitored(OpenAIBatchMonitor::reasoningTokens);
    }

    @ManagedAttribute(description = "Estimated cost in US dollars of the batches of this name finished in this JVM")
    public double getEstimatedCost() {
        return dev.camelbatch.openaibatch.engine.usage.UsageTotals.of(name).estimatedCost().doubleValue();
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public OpenAIBatchConfiguration getConfiguration() {
        return configuration;
    }

    public void setConfiguration(OpenAIBatchConfiguration configuration) {
        this.configuration = configuration;
    }
}
