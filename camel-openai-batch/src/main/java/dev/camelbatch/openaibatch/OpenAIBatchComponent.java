package dev.camelbatch.openaibatch;

import java.util.Map;

import org.apache.camel.Endpoint;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;
import org.apache.camel.util.PropertiesHelper;

/**
 * The openai-batch component: {@code to("openai-batch:name")} spools requests, {@code from("openai-batch:name")}
 * submits them as OpenAI batches and emits one exchange per result. Options set on the component are the defaults of
 * every endpoint, so routes stay short.
 */
@Component("openai-batch")
public class OpenAIBatchComponent extends DefaultComponent {

    @Metadata(description = "Component configuration: the defaults of every endpoint")
    private OpenAIBatchConfiguration configuration = new OpenAIBatchConfiguration();

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

    public OpenAIBatchConfiguration getConfiguration() {
        return configuration;
    }

    public void setConfiguration(OpenAIBatchConfiguration configuration) {
        this.configuration = configuration;
    }
}
