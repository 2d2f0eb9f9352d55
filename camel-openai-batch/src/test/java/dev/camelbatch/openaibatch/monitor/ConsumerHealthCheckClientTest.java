package dev.camelbatch.openaibatch.monitor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConsumer;
import dev.camelbatch.openaibatch.TestComponents;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The consumer's health check has an API client of its own; it is closed (its connection pool shut down) when the
 * consumer stops, whether or not the check is called again, and a restarted consumer's check opens a new one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConsumerHealthCheckClientTest {

    static final String KEY = "sk-test-health-client";
    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    CamelContext context;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(20)).build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @AfterEach
    void stopContext() {
        if (context != null) {
            context.stop();
        }
    }

    @Test
    void theChecksClientIsClosedWhenTheRouteStopsAndIsRemoved() throws Exception {
        context = new DefaultCamelContext();
        OpenAIBatchComponent component = TestComponents.onSimulator(context, sim, KEY, storeDir);
        component.setHealthCheckApiCacheTime(0);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("openai-batch:hc-client?pollInterval=50").routeId("results").to("log:results?level=DEBUG");
            }
        });
        context.start();

        OpenAIBatchConsumerHealthCheck check = check();
        assertThat(state()).isEqualTo(HealthCheck.State.UP);
        OpenAIBatchClient first = check.currentClient();
        assertThat(first).as("the probe's client").isNotNull();

        context.getRouteController().stopRoute("results");
        assertThat(check.currentClient()).isNull();
        assertThatThrownBy(() -> first.listBatches(null, 1)).as("its connection pool is shut down")
                .hasMessageContaining("shut down");

        // started again, the check opens a client of its own again; removing the route closes it
        context.getRouteController().startRoute("results");
        assertThat(state()).isEqualTo(HealthCheck.State.UP);
        OpenAIBatchConsumerHealthCheck restarted = check();
        OpenAIBatchClient second = restarted.currentClient();
        assertThat(second).isNotNull().isNotSameAs(first);
        context.getRouteController().stopRoute("results");
        context.removeRoute("results");
        assertThat(restarted.currentClient()).isNull();
        assertThatThrownBy(() -> second.listBatches(null, 1)).hasMessageContaining("shut down");
    }

    private OpenAIBatchConsumerHealthCheck check() {
        Route route = context.getRoute("results");
        return (OpenAIBatchConsumerHealthCheck) ((OpenAIBatchConsumer) route.getConsumer()).getHealthCheck();
    }

    private HealthCheck.State state() {
        return HealthCheckHelper.invoke(context, "consumer:results", Map.of()).orElseThrow().getState();
    }
}
