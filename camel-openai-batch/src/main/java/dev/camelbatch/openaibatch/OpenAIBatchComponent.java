package dev.camelbatch.openaibatch;

import java.util.Map;

import dev.camelbatch.openaibatch.monitor.OpenAIBatchHealthCheckRepository;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.HealthCheckComponent;
import org.apache.camel.util.PropertiesHelper;

/**
 * The openai-batch component: {@code to("openai-batch:name")} spools requests, {@code from("openai-batch:name")}
 * submits them as OpenAI batches and emits one exchange per result. Options set on the component are the defaults of
 * every endpoint, so routes stay short.
 * <p>
 * Health checks (when camel-health is in use): each consumer has a readiness check of the API, and the repository
 * {@code openai-batch} has one check per endpoint name for stuck or repeatedly failing batches and a spool that is
 * not drained ({@link OpenAIBatchHealthCheckRepository}). Metrics go to a Micrometer {@code MeterRegistry} when
 * Micrometer is on the class path ({@code meterRegistry}, else the single one in the Camel registry).
 */
@Component("openai-batch")
public class OpenAIBatchComponent extends HealthCheckComponent {

    @Metadata(description = "Component configuration: the defaults of every endpoint")
    private OpenAIBatchConfiguration configuration = new OpenAIBatchConfiguration();

    @Metadata(label = "health", defaultValue = "5000",
              description = "How long (milliseconds) the result of the API readiness check (an authenticated call"
                            + " listing one batch) is reused before the API is asked again.")
    private long healthCheckApiCacheTime = 5_000;
    @Metadata(label = "health", defaultValue = "3600000",
              description = "The batches check is DOWN while a submitted batch has made no progress for this many"
                            + " milliseconds (or the engine reported it stuck, see stuckBatchTimeout); 0 = only the"
                            + " engine's reports.")
    private long healthCheckMaxBatchIdleTime = 3_600_000;
    @Metadata(label = "health", defaultValue = "3",
              description = "The batches check is DOWN while a segment has failed this many times in a row: failed"
                            + " batches, or failed attempts to upload and create its batch; 0 = off.")
    private int healthCheckMaxBatchFailures = 3;
    @Metadata(label = "health", defaultValue = "1000000",
              description = "The batches check is DOWN while more requests than this wait in the spool (spooled,"
                            + " not yet submitted); 0 = off.")
    private long healthCheckMaxWaitingRequests = 1_000_000;
    @Metadata(label = "health", defaultValue = "3600000",
              description = "The batches check is DOWN when sealed segments have waited for submission for this many"
                            + " milliseconds while no batch was submitted, progressed or delivered (the spool grows"
                            + " and nothing drains it: no consumer, a refused key, a quota); 0 = off.")
    private long healthCheckSpoolStallTime = 3_600_000;
    @Metadata(label = "advanced,metrics", defaultValue = "true",
              description = "Whether to publish metrics to Micrometer (when micrometer-core is on the class path).")
    private boolean metricsEnabled = true;
    @Metadata(label = "advanced,metrics",
              description = "The Micrometer MeterRegistry (io.micrometer.core.instrument.MeterRegistry) to publish"
                            + " metrics to; by default the single MeterRegistry of the Camel registry, if there is"
                            + " one.")
    private Object meterRegistry;

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        if (remaining == null || remaining.isBlank()) {
            throw new IllegalArgumentException("An endpoint name is required: openai-batch:name");
        }
        OpenAIBatchConfiguration conf = configuration != null ? configuration.copy() : new OpenAIBatchConfiguration();
        OpenAIBatchEndpoint endpoint = new OpenAIBatchEndpoint(uri, this, conf);
        endpoint.setName(remaining);
        Map<String, Object> body = PropertiesHelper.extractProperties(parameters, "body.");
        setProperties(endpoint, parameters);
        if (!body.isEmpty()) {
            Map<String, Object> merged = new java.util.LinkedHashMap<>();
            if (conf.getBodyParameters() != null) {
                merged.putAll(conf.getBodyParameters());
            }
            merged.putAll(body);
            conf.setBodyParameters(merged);
        }
        return endpoint;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        // registers the repository of batches checks when the context uses health checks (camel-health)
        OpenAIBatchHealthCheckRepository.resolve(getCamelContext());
    }

    public OpenAIBatchConfiguration getConfiguration() {
        return configuration;
    }

    public void setConfiguration(OpenAIBatchConfiguration configuration) {
        this.configuration = configuration;
    }

    public long getHealthCheckApiCacheTime() {
        return healthCheckApiCacheTime;
    }

    public void setHealthCheckApiCacheTime(long healthCheckApiCacheTime) {
        this.healthCheckApiCacheTime = healthCheckApiCacheTime;
    }

    public long getHealthCheckMaxBatchIdleTime() {
        return healthCheckMaxBatchIdleTime;
    }

    public void setHealthCheckMaxBatchIdleTime(long healthCheckMaxBatchIdleTime) {
        this.healthCheckMaxBatchIdleTime = healthCheckMaxBatchIdleTime;
    }

    public int getHealthCheckMaxBatchFailures() {
        return healthCheckMaxBatchFailures;
    }

    public void setHealthCheckMaxBatchFailures(int healthCheckMaxBatchFailures) {
        this.healthCheckMaxBatchFailures = healthCheckMaxBatchFailures;
    }

    public long getHealthCheckMaxWaitingRequests() {
        return healthCheckMaxWaitingRequests;
    }

    public void setHealthCheckMaxWaitingRequests(long healthCheckMaxWaitingRequests) {
        this.healthCheckMaxWaitingRequests = healthCheckMaxWaitingRequests;
    }

    public long getHealthCheckSpoolStallTime() {
        return healthCheckSpoolStallTime;
    }

    public void setHealthCheckSpoolStallTime(long healthCheckSpoolStallTime) {
        this.healthCheckSpoolStallTime = healthCheckSpoolStallTime;
    }

    public boolean isMetricsEnabled() {
        return metricsEnabled;
    }

    public void setMetricsEnabled(boolean metricsEnabled) {
        this.metricsEnabled = metricsEnabled;
    }

    public Object getMeterRegistry() {
        return meterRegistry;
    }

    /** A {@code io.micrometer.core.instrument.MeterRegistry} (typed Object so that Micrometer stays optional). */
    public void setMeterRegistry(Object meterRegistry) {
        this.meterRegistry = meterRegistry;
    }
}
