package dev.camelbatch.openaibatch.monitor;

import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.camelbatch.openaibatch.engine.usage.BatchProgress;
import dev.camelbatch.openaibatch.engine.usage.UsageAccumulator;
import dev.camelbatch.openaibatch.engine.usage.UsageTotals;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.ManagementAgent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JMX MBean of an endpoint name's usage totals and progress. The same figures are available in Java without JMX:
 * {@link UsageTotals#of(String)} (running totals per endpoint name in this JVM) and the consumer's engine monitor.
 */
public final class OpenAIBatchUsage implements OpenAIBatchUsageMBean {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchUsage.class);

    private final String name;
    private final UsageWatch monitor;
    private MBeanServer server;
    private ObjectName objectName;

    OpenAIBatchUsage(String name, UsageWatch monitor) {
        this.name = name;
        this.monitor = monitor;
    }

    /** Registers the MBean when the context has JMX enabled; returns it (registered or not). */
    public static OpenAIBatchUsage register(CamelContext context, String name, UsageWatch monitor) {
        OpenAIBatchUsage mbean = new OpenAIBatchUsage(name, monitor);
        ManagementAgent agent = context.getManagementStrategy() != null
                ? context.getManagementStrategy().getManagementAgent() : null;
        if (agent == null) {
            return mbean;
        }
        try {
            MBeanServer server = agent.getMBeanServer() != null ? agent.getMBeanServer()
                    : ManagementFactory.getPlatformMBeanServer();
            String domain = agent.getMBeanObjectDomainName() != null ? agent.getMBeanObjectDomainName()
                    : "org.apache.camel";
            String ctx = context.getManagementName() != null ? context.getManagementName() : context.getName();
            ObjectName on = new ObjectName(domain + ":context=" + ctx.replaceAll("[,=:\"*?]", "_")
                                           + ",type=openai-batch,name=" + ObjectName.quote(name));
            if (server.isRegistered(on)) {
                server.unregisterMBean(on);
            }
            server.registerMBean(mbean, on);
            mbean.server = server;
            mbean.objectName = on;
        } catch (Exception e) {
            LOG.warn("Cannot register the usage MBean of openai-batch:{}: {}", name, e.toString());
        }
        return mbean;
    }

    public void unregister() {
        if (server != null && objectName != null) {
            try {
                if (server.isRegistered(objectName)) {
                    server.unregisterMBean(objectName);
                }
            } catch (Exception e) {
                LOG.debug("Cannot unregister {}: {}", objectName, e.toString());
            }
            server = null;
        }
    }

    /** The JMX name, or {@code null} when JMX is off. */
    public ObjectName getObjectName() {
        return objectName;
    }

    private UsageTotals totals() {
        return monitor.totals();
    }

    @Override
    public String getEndpointName() {
        return name;
    }

    @Override
    public long getBatches() {
        return totals().batches();
    }

    @Override
    public long getBatchesWithUnknownCost() {
        return totals().batchesWithUnknownCost();
    }

    @Override
    public long getPromptTokens() {
        return totals().promptTokens();
    }

    @Override
    public long getCachedTokens() {
        return totals().cachedTokens();
    }

    @Override
    public long getCompletionTokens() {
        return totals().completionTokens();
    }

    @Override
    public long getReasoningTokens() {
        return totals().reasoningTokens();
    }

    @Override
    public long getTotalTokens() {
        return totals().totalTokens();
    }

    @Override
    public double getEstimatedCost() {
        return totals().estimatedCost().doubleValue();
    }

    @Override
    public String getPriceTableDate() {
        return monitor.prices().date();
    }

    @Override
    public String[] getBatchProgress() {
        return monitor.progress().stream().map(p -> p.batchId() + " " + p.describe()).toArray(String[]::new);
    }

    @Override
    public void resetTotals() {
        UsageAccumulator.forName(name).reset();
    }

    /** For Java callers: the progress of the batches in flight. */
    public java.util.List<BatchProgress> progress() {
        return monitor.progress();
    }
}
