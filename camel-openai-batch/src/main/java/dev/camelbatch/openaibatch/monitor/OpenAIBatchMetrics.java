package dev.camelbatch.openaibatch.monitor;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the counters of an endpoint name to Micrometer when micrometer-core is on the class path. This class
 * never names a Micrometer type: {@link OpenAIBatchMicrometer}, which does, is loaded only after the check below
 * found Micrometer, so the component runs the same without it.
 */
public final class OpenAIBatchMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchMetrics.class);
    private static final String METER_REGISTRY = "io.micrometer.core.instrument.MeterRegistry";
    private static final boolean MICROMETER = present(METER_REGISTRY);

    private OpenAIBatchMetrics() {
    }

    /** Whether micrometer-core can be loaded by this component's class loader. */
    static boolean isMicrometerPresent() {
        return MICROMETER;
    }

    static boolean present(String className) {
        try {
            Class.forName(className, false, OpenAIBatchMetrics.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Binds the meters of a runtime's name to the component's registry (once per registry and runtime). */
    public static void bind(OpenAIBatchComponent component, OpenAIBatchRuntime runtime, CamelContext context) {
        if (component == null || !component.isMetricsEnabled()) {
            return;
        }
        if (!MICROMETER) {
            if (component.getMeterRegistry() != null) {
                LOG.warn("meterRegistry is set but micrometer-core is not on the class path: no metrics");
            }
            return;
        }
        try {
            OpenAIBatchMicrometer.bind(runtime, component.getMeterRegistry(), context);
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("Cannot publish the metrics of openai-batch:{}: {}", runtime.name(), e.toString());
        }
    }
}
