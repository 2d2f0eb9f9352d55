package dev.camelbatch.openaibatch.monitor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.OpenAIBatchEndpoint;
import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.DeferredContextBinding;
import org.apache.camel.Endpoint;
import org.apache.camel.NonManagedService;
import org.apache.camel.StaticService;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.health.HealthCheckRepository;
import org.apache.camel.support.service.ServiceSupport;

/**
 * The batches checks ({@link OpenAIBatchQueueHealthCheck}) of a context: one per endpoint name that the context's
 * openai-batch endpoints use, found anew at each call as Camel's consumers repository finds routes. Registered by the
 * component when it starts, if the context has a health check registry (camel-health); Camel Main and Spring Boot
 * also find it on the class path by its id.
 */
@org.apache.camel.spi.annotations.HealthCheck("openai-batch-repository")
@DeferredContextBinding
public class OpenAIBatchHealthCheckRepository extends ServiceSupport
        implements CamelContextAware, HealthCheckRepository, StaticService, NonManagedService {

    public static final String REPOSITORY_ID = "openai-batch";

    private final ConcurrentMap<String, OpenAIBatchQueueHealthCheck> checks = new ConcurrentHashMap<>();
    private volatile CamelContext context;
    private boolean enabled = true;

    /** Registers the repository with the context's health check registry, if there is one. */
    public static void resolve(CamelContext context) {
        if (HealthCheckRegistry.get(context) != null) {
            HealthCheckHelper.getHealthCheckRepository(context, REPOSITORY_ID);
        }
    }

    @Override
    public String getId() {
        return REPOSITORY_ID;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }

    @Override
    public boolean isEnabled() {
        return enabled;
    }

    @Override
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public Stream<HealthCheck> stream() {
        CamelContext ctx = context;
        if (ctx == null || !enabled) {
            return Stream.empty();
        }
        Map<String, OpenAIBatchEndpoint> names = new LinkedHashMap<>();
        for (Endpoint e : ctx.getEndpoints()) {
            if (e instanceof OpenAIBatchEndpoint obe) {
                names.putIfAbsent(key(obe), obe);
            }
        }
        checks.keySet().retainAll(names.keySet());
        return names.entrySet().stream().map(en -> (HealthCheck) checks.computeIfAbsent(en.getKey(), k -> {
            OpenAIBatchQueueHealthCheck hc = new OpenAIBatchQueueHealthCheck(en.getValue().getComponent(),
                    en.getValue());
            hc.setCamelContext(ctx);
            return hc;
        }));
    }

    private static String key(OpenAIBatchEndpoint e) {
        return OpenAIBatchRuntime.storeDirectory(e.getConfiguration()) + "|" + e.getName();
    }
}
