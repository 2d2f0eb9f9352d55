package dev.camelbatch.openaibatch;

import java.nio.file.Path;

import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;

/** The component as most tests use it: on a simulator, with a file store in a temporary directory. */
public final class TestComponents {

    private TestComponents() {
    }

    /** Adds an {@code openai-batch} component talking to {@code sim} and storing in {@code storeDir}. */
    public static OpenAIBatchComponent onSimulator(CamelContext context, BatchSimulator sim, String apiKey, Path storeDir) {
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey(apiKey);
        component.getConfiguration().setBaseUrl(sim.baseUrl());
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        context.addComponent("openai-batch", component);
        return component;
    }
}
