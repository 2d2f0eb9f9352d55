package dev.camelbatch.openaibatch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A YAML DSL route file (src/test/resources/yaml/openai-batch-routes.yaml, the one the component docs show) with an
 * openai-batch producer and consumer runs end to end on the simulator.
 */
@Timeout(300)
class OpenAIBatchYamlDslTest {

    @TempDir
    Path store;

    @Test
    void yamlRoutesRunEndToEnd() throws Exception {
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-test-yaml").port(0)
                .stepDelay(Duration.ofMillis(10)).build().start()) {
            CamelContext context = new DefaultCamelContext();
            try {
                OpenAIBatchComponent component = new OpenAIBatchComponent();
                component.getConfiguration().setApiKey("sk-test-yaml");
                component.getConfiguration().setBaseUrl(sim.baseUrl());
                component.getConfiguration().setStoreDirectory(store.toString());
                context.addComponent("openai-batch", component);
                Resource yaml = PluginHelper.getResourceLoader(context)
                        .resolveResource("classpath:yaml/openai-batch-routes.yaml");
                PluginHelper.getRoutesLoader(context).loadRoutes(yaml);
                context.start();
                assertThat(context.getRoute("review-results").getEndpoint())
                        .isInstanceOf(OpenAIBatchEndpoint.class);

                MockEndpoint results = context.getEndpoint("mock:results", MockEndpoint.class);
                results.expectedMessageCount(4);
                results.expectedHeaderValuesReceivedInAnyOrder("reviewId", 0, 1, 2, 3);
                context.createProducerTemplate().sendBody("direct:reviews",
                        List.of("Great product", "Broke after a day", "Calculate: 1 + 1 = ", "Okay I guess"));
                results.assertIsSatisfied(20_000);

                assertThat(results.getExchanges()).allSatisfy(e -> {
                    assertThat(e.getMessage().getHeader(OpenAIBatchConstants.IS_ERROR)).isEqualTo(false);
                    assertThat(e.getMessage().getBody(String.class)).isNotBlank();
                });
                assertThat(results.getExchanges()).anySatisfy(
                        e -> assertThat(e.getMessage().getBody(String.class)).isEqualTo("1 + 1 = 2"));
                @SuppressWarnings("unchecked")
                IdempotentRepository ids = context.getRegistry().lookupByNameAndType("lineIds",
                        IdempotentRepository.class);
                String lineId = results.getExchanges().get(0).getMessage()
                        .getHeader(OpenAIBatchConstants.LINE_ID, String.class);
                assertThat(ids.contains(lineId)).isTrue();
            } finally {
                context.stop();
            }
        }
    }
}
