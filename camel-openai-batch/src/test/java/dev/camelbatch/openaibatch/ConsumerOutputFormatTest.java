package dev.camelbatch.openaibatch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

/**
 * The consumer's {@code outputFormat} for every endpoint of the Batch API, through real batches on the simulator:
 * the useful content (text, vector, moderation result), the body as JSON text or a Map, the raw line; and the usage
 * headers of chat (prompt/completion) and responses (input/output) alike.
 */
@Timeout(300)
class ConsumerOutputFormatTest extends CamelTestSupport {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey("sk-test-format").port(0).stepDelay(Duration.ofMillis(10))
                .linesPerStep(50).seed(11).build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        TestComponents.onSimulator(context, sim, "sk-test-format", storeDir);
        return context;
    }

    static final List<String> ENDPOINTS = List.of("chat", "completions", "responses", "embeddings", "moderations");
    static final List<String> FORMATS = List.of("content", "json", "map", "raw");

    static String path(String ep) {
        return ep.equals("chat") ? "/v1/chat/completions" : "/v1/" + ep;
    }

    static String model(String ep) {
        return switch (ep) {
            case "embeddings" -> "text-embedding-3-small";
            case "moderations" -> "omni-moderation-latest";
            case "completions" -> "gpt-3.5-turbo-instruct";
            default -> "gpt-4o-mini";
        };
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                for (String ep : ENDPOINTS) {
                    for (String f : FORMATS) {
                        String name = "fmt-" + ep + "-" + f;
                        from("direct:" + name).to("openai-batch:" + name + "?endpoint=" + path(ep) + "&model="
                                                  + model(ep) + "&maxRequestsPerBatch=2&batchTimeout=200");
                        from("openai-batch:" + name + "?pollInterval=20&maxPollInterval=100&outputFormat=" + f)
                                .to("mock:" + name);
                    }
                }
            }
        };
    }

    @Test
    void everyEndpointInEveryFormat() throws Exception {
        for (String ep : ENDPOINTS) {
            for (String f : FORMATS) {
                String name = "fmt-" + ep + "-" + f;
                getMockEndpoint("mock:" + name).expectedMessageCount(2);
                for (int k = 0; k < 2; k++) {
                    String text = "Calculate: 1 + " + k + " = ";
                    Exchange sent = template.request("direct:" + name, e -> e.getMessage().setBody(text));
                    assertThat(sent.getException()).as(name).isNull();
                }
            }
        }
        for (String ep : ENDPOINTS) {
            for (String f : FORMATS) {
                String name = "fmt-" + ep + "-" + f;
                MockEndpoint mock = getMockEndpoint("mock:" + name);
                mock.assertIsSatisfied(30_000);
                for (Exchange ex : mock.getReceivedExchanges()) {
                    check(ep, f, ex);
                }
            }
        }
    }

    private static void check(String ep, String format, Exchange ex) throws Exception {
        String what = ep + "/" + format;
        Object body = ex.getMessage().getBody();
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.IS_ERROR)).as(what).isEqualTo(false);
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.STATUS_CODE)).as(what).isEqualTo(200);
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.REQUEST_ID, String.class)).as(what).isNotBlank();
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.LINE_REQUEST_ID, String.class)).as(what)
                .isNotBlank();
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.RESPONSE_MODEL, String.class)).as(what)
                .startsWith(model(ep).substring(0, 4));
        if (!ep.equals("moderations")) {
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.PROMPT_TOKENS, Long.class)).as(what)
                    .isPositive();
        }
        if (ep.equals("chat") || ep.equals("responses") || ep.equals("completions")) {
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.COMPLETION_TOKENS, Long.class)).as(what)
                    .isPositive();
        }
        switch (format) {
            case "content" -> {
                switch (ep) {
                    case "chat", "responses" -> assertThat(body).as(what).isInstanceOf(String.class)
                            .asString().matches("1 \\+ [01] = [12]");
                    case "completions" -> assertThat(body).as(what).isInstanceOf(String.class).asString()
                            .contains("= ");
                    case "embeddings" -> assertThat(body).as(what).isInstanceOf(List.class)
                            .satisfies(v -> assertThat((List<?>) v).isNotEmpty().allMatch(x -> x instanceof Double));
                    case "moderations" -> assertThat(body).as(what).isInstanceOf(Map.class)
                            .satisfies(m -> assertThat(((Map<?, ?>) m).containsKey("flagged")).isTrue());
                    default -> throw new IllegalStateException(ep);
                }
            }
            case "json" -> {
                JsonNode n = MAPPER.readTree((String) body);
                assertThat(n.isObject()).as(what).isTrue();
                assertThat(n.path("model").asText()).as(what).isNotBlank();
                assertThat(n.has("custom_id")).as(what).isFalse();
            }
            case "map" -> {
                assertThat(body).as(what).isInstanceOf(Map.class);
                assertThat(((Map<?, ?>) body).get("model")).as(what).isNotNull();
            }
            case "raw" -> {
                JsonNode n = MAPPER.readTree((String) body);
                assertThat(n.path("custom_id").asText()).as(what)
                        .isEqualTo(ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID));
                assertThat(n.path("response").path("status_code").asInt()).as(what).isEqualTo(200);
            }
            default -> throw new IllegalStateException(format);
        }
    }
}
