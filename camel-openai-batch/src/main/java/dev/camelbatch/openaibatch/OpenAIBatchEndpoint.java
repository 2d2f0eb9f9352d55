package dev.camelbatch.openaibatch;

import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriPath;
import org.apache.camel.support.DefaultEndpoint;

/**
 * Send large LLM workloads through the OpenAI Batch API: requests are spooled durably, cut into batches, submitted,
 * polled, and their results emitted one exchange per line.
 */
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
        return consumer;
    }

    @Override
    public boolean isSingletonProducer() {
        return true;
    }

    /** The shared runtime (store, engine, client) of this endpoint's name. */
    OpenAIBatchRuntime acquireRuntime() throws Exception {
        return OpenAIBatchRuntime.acquire(this);
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
