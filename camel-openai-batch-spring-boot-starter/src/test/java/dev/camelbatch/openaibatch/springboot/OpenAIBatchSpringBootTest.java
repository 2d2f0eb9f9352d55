package dev.camelbatch.openaibatch.springboot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.util.FileUtil;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A Spring Boot application configured only by {@code camel.component.openai-batch.*} properties pointing at the
 * simulator (started before the context): a route from a producer to a consumer, and the results arrive.
 */
@SpringBootTest(classes = OpenAIBatchSpringBootTest.App.class, properties = {
        "camel.component.openai-batch.api-key=sk-test-boot",
        "camel.component.openai-batch.model=gpt-4o-mini",
        "camel.component.openai-batch.system-message=Answer briefly",
        "camel.component.openai-batch.poll-interval=20",
        "camel.component.openai-batch.max-poll-interval=100",
        "camel.component.openai-batch.carry-headers=ticketId",
        "camel.component.openai-batch.body-parameters.temperature=0",
        "camel.component.openai-batch.sync-policy=always",
        "camel.component.openai-batch.health-check-api-cache-time=1234",
        "camel.main.name=openai-batch-boot-test",
        "camel.health.enabled=true",
        "camel.health.exposure-level=full",
        "management.endpoint.health.show-details=always" })
@Timeout(300)
class OpenAIBatchSpringBootTest {

    static BatchSimulator sim;
    static Path store;

    @DynamicPropertySource
    static void simulator(DynamicPropertyRegistry registry) throws IOException {
        sim = BatchSimulator.builder().apiKey("sk-test-boot").port(0).stepDelay(Duration.ofMillis(10)).build().start();
        store = Files.createTempDirectory("openai-batch-boot");
        registry.add("camel.component.openai-batch.base-url", sim::baseUrl);
        registry.add("camel.component.openai-batch.store-directory", store::toString);
    }

    @AfterAll
    static void stopSimulator() {
        if (sim != null) {
            sim.close();
        }
        if (store != null) {
            FileUtil.removeDir(store.toFile());
        }
    }

    @SpringBootApplication
    static class App {
        @Bean
        RouteBuilder routes() {
            return new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:tickets").to("openai-batch:boot-tickets");
                    from("openai-batch:boot-tickets").routeId("ticket-results").to("mock:results");
                }
            };
        }
    }

    @Autowired
    CamelContext context;
    @Autowired
    ProducerTemplate template;
    @Autowired
    MeterRegistry meters;
    @Autowired
    HealthEndpoint health;

    @Test
    void propertiesConfigureTheComponentAndResultsArrive() throws Exception {
        OpenAIBatchComponent component = context.getComponent("openai-batch", OpenAIBatchComponent.class);
        assertThat(component.getConfiguration().getApiKey()).isEqualTo("sk-test-boot");
        assertThat(component.getConfiguration().getBaseUrl()).isEqualTo(sim.baseUrl());
        assertThat(component.getConfiguration().getStoreDirectory()).isEqualTo(store.toString());
        assertThat(component.getConfiguration().getModel()).isEqualTo("gpt-4o-mini");
        assertThat(component.getConfiguration().getPollInterval()).isEqualTo(20);
        assertThat(component.getConfiguration().getBodyParameters()).containsEntry("temperature", "0");
        assertThat(component.getConfiguration().getSyncPolicy().name()).isEqualTo("ALWAYS");
        assertThat(component.getHealthCheckApiCacheTime()).isEqualTo(1234);

        MockEndpoint results = context.getEndpoint("mock:results", MockEndpoint.class);
        results.expectedMessageCount(3);
        results.expectedHeaderValuesReceivedInAnyOrder("ticketId", "t-1", "t-2", "t-3");
        List<String> prompts = List.of("Calculate: 1 + 1 = ", "Calculate: 1 + 2 = ", "Calculate: 1 + 3 = ");
        for (int i = 0; i < prompts.size(); i++) {
            template.sendBodyAndHeaders("direct:tickets", prompts.get(i),
                    Map.of("ticketId", "t-" + (i + 1), OpenAIBatchConstants.FLUSH, i == prompts.size() - 1));
        }
        results.assertIsSatisfied(20_000);
        assertThat(results.getExchanges()).extracting(e -> e.getMessage().getBody(String.class))
                .containsExactlyInAnyOrder("1 + 1 = 2", "1 + 2 = 3", "1 + 3 = 4");
        assertThat(sim.stats().createdBatchMetadata()).hasSize(1);

        // the meters went to Spring Boot's MeterRegistry, found in the registry without configuration
        await().atMost(Duration.ofSeconds(10)).until(() -> meters.find("camel.openai.batch.batches.done")
                .tag("name", "boot-tickets").functionCounter() != null
                && meters.get("camel.openai.batch.batches.done").tag("name", "boot-tickets").functionCounter()
                        .count() == 1);
        assertThat(meters.get("camel.openai.batch.requests.spooled").tag("name", "boot-tickets").functionCounter()
                .count()).isEqualTo(3);
        // the checks are in Camel's health registry, and Spring Boot's health is UP with them
        assertThat(HealthCheckRegistry.get(context).getCheckIDs()).contains("consumer:ticket-results",
                "openai-batch-batches-boot-tickets");
        assertThat(HealthCheckHelper.invokeReadiness(context)).filteredOn(r -> r.getCheck().getId()
                .contains("boot-tickets") || r.getCheck().getId().equals("consumer:ticket-results"))
                .hasSize(2).allSatisfy(r -> assertThat(r.getState()).isEqualTo(HealthCheck.State.UP));
        assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    }
}
