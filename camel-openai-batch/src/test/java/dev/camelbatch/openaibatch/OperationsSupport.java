package dev.camelbatch.openaibatch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Shared set-up of the operation tests: a simulator per test class and a component pointing at it. */
abstract class OperationsSupport extends CamelTestSupport {

    static final String KEY = "sk-test-ops";
    static BatchSimulator sim;

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void startSimulator() {
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(10)).linesPerStep(5_000)
                .seed(6).build().start();
    }

    @AfterAll
    static void stopSimulator() {
        sim.close();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        OpenAIBatchComponent component = TestComponents.onSimulator(context, sim, KEY, storeDir);
        component.getConfiguration().setPollInterval(20);
        component.getConfiguration().setMaxPollInterval(100);
        return context;
    }

    /** A JSONL document of n chat requests "Calculate: 1 + i = " with custom ids prefix-i. */
    static String jsonl(String prefix, int n, String model) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append("{\"custom_id\":\"").append(prefix).append('-').append(i)
                    .append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"")
                    .append(model).append("\",\"messages\":[{\"role\":\"user\",\"content\":\"Calculate: 1 + ")
                    .append(i).append(" = \"}]}}\n");
        }
        return sb.toString();
    }

    /** Sends to an endpoint URI and returns the exchange (exception included). */
    Exchange call(String uri, Object body, Map<String, Object> headers) {
        return template.request(uri, e -> {
            e.getMessage().setBody(body);
            if (headers != null) {
                e.getMessage().setHeaders(new java.util.HashMap<>(headers));
            }
        });
    }

    @SuppressWarnings("unchecked")
    static List<String> ids(Exchange ex) {
        return new ArrayList<>(ex.getMessage().getHeader(OpenAIBatchConstants.BATCH_IDS, List.class));
    }
}
