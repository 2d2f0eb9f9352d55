package dev.camelbatch.openaibatch;

import java.nio.file.Path;
import java.time.Duration;

import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** Azure OpenAI mode (api-key header, api-version, endpoints without /v1) end to end on the simulator's Azure mode. */
@Timeout(300)
class AzureEndToEndTest extends CamelTestSupport {

    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey("azure-key-123").azureMode(true).port(0)
                .stepDelay(Duration.ofMillis(20)).build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey("azure-key-123");
        component.getConfiguration().setAzure(true);
        component.getConfiguration().setAzureApiVersion("2024-10-21");
        component.getConfiguration().setBaseUrl(sim.baseUrl());
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        context.addComponent("openai-batch", component);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:azure?model=my-gpt-4o-mini-deployment&batchTimeout=100");
                from("openai-batch:azure?pollInterval=20&maxPollInterval=100").to("mock:out");
            }
        };
    }

    @Test
    void chatRequestsGoThroughAzureMode() throws Exception {
        MockEndpoint out = getMockEndpoint("mock:out");
        out.expectedMessageCount(3);
        for (int i = 0; i < 3; i++) {
            template.sendBody("direct:in", "Calculate: 1 + " + i + " = ");
        }
        out.assertIsSatisfied(20_000);
        for (Exchange e : out.getReceivedExchanges()) {
            assertThat(e.getMessage().getBody(String.class)).matches("1 \\+ \\d = \\d");
            assertThat(e.getMessage().getHeader(OpenAIBatchConstants.ENDPOINT)).isEqualTo("/chat/completions");
        }
        assertThat(sim.stats().batchesCreated()).isEqualTo(1);
    }
}
