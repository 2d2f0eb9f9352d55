package dev.camelbatch.openaibatch.producer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.api.OpenAIJson;
import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A text prompt's request line is written without building its tree; it must be byte for byte the line that the tree
 * path makes (body from the prompt, validated, serialised), for every endpoint, with and without a system message,
 * on Azure's classic API too.
 */
@Timeout(300)
class RequestConverterDirectTest {

    private static final ObjectMapper MAPPER = OpenAIJson.mapper();

    private static final List<String> PROMPTS = List.of("", "Calculate: 1 + 41 = ", "Grüße aus Köln 🌍, 中文",
            "quotes \" and \\ backslashes / slashes", "control \u0000 \u0001 \b \f \n \r \t \u001f \u007f",
            "lone surrogate \ud800 end", "</script><!-- html -->", "x".repeat(20_000));

    @Test
    void directLinesAreTheTreePathsBytes() throws Exception {
        int compared = 0;
        for (String endpoint : List.of("/v1/chat/completions", "/v1/responses", "/v1/completions", "/v1/embeddings",
                "/v1/moderations")) {
            for (String system : new String[] { null, "You are terse.", "Systém \"quoted\" \n" }) {
                for (boolean azure : new boolean[] { false, true }) {
                    OpenAIBatchConfiguration conf = new OpenAIBatchConfiguration();
                    conf.setEndpoint(endpoint);
                    conf.setSystemMessage(system);
                    if (azure) {
                        conf.setAzure(true);
                        conf.setAzureApiVersion("2024-10-21");
                    }
                    RequestConverter c = new RequestConverter(conf, MAPPER, null);
                    assertThat(c.direct("gpt-4o-mini")).isTrue();
                    assertThat(c.promptTemplated()).isTrue();
                    for (String prompt : PROMPTS) {
                        // plain ids and models are copied between the template's bytes; others take the generator
                        String id = compared % 3 == 0 ? "r-" + compared : compared % 3 == 1 ? "ré-" + compared
                                : "r\"" + compared + "\\";
                        String model = compared % 4 == 3 ? "mödel/\"x\"" : "gpt-4o-mini";
                        byte[] direct = c.promptLine(id, model, prompt);
                        ObjectNode line = MAPPER.createObjectNode();
                        line.put("custom_id", id);
                        line.put("method", "POST");
                        line.put("url", c.wireEndpoint());
                        line.set("body", c.promptBody(prompt, model));
                        byte[] tree = RequestLines.validateAndSerialize(MAPPER, line, c.wireEndpoint(),
                                conf.getMaxBatchBytes());
                        assertThat(new String(direct, StandardCharsets.UTF_8)).as("%s %s %s %s %s %s", endpoint,
                                system, azure, id, model, prompt.length() > 60 ? prompt.length() + " chars" : prompt)
                                .isEqualTo(new String(tree, StandardCharsets.UTF_8));
                        assertThat(direct).isEqualTo(tree);
                        compared++;
                    }
                }
            }
        }
        assertThat(compared).isEqualTo(5 * 3 * 2 * PROMPTS.size());
    }

    @Test
    void theTreePathStaysForWhatTheDirectOneCannotDo() throws Exception {
        OpenAIBatchConfiguration conf = new OpenAIBatchConfiguration();
        conf.setEndpoint("/v1/chat/completions");
        RequestConverter plain = new RequestConverter(conf, MAPPER, null);
        assertThat(plain.direct(null)).isFalse();
        assertThat(plain.direct(" ")).isFalse();

        conf.setBodyParameters(Map.of("temperature", 0));
        RequestConverter withParameters = new RequestConverter(conf, MAPPER, null);
        assertThat(withParameters.direct("gpt-4o-mini")).isFalse();

        // through single(): a prompt with a model goes direct, one without fails as before, with its reason
        DefaultCamelContext context = new DefaultCamelContext();
        context.start();
        try {
            Exchange ok = new DefaultExchange(context);
            ok.getMessage().setBody("Say hi");
            RequestConverter.Converted c = plain.single(ok, "gpt-4o-mini", "given-id", null);
            assertThat(c.model()).isEqualTo("gpt-4o-mini");
            assertThat(c.record().customId()).isEqualTo("given-id");
            assertThat(new String(c.record().line(), StandardCharsets.UTF_8)).isEqualTo(
                    "{\"custom_id\":\"given-id\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                    + "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}]}}");
            RequestConverter.Converted generated = plain.single(ok, "gpt-4o-mini", null, null);
            assertThat(generated.record().customId()).startsWith("req-");

            Exchange noModel = new DefaultExchange(context);
            noModel.getMessage().setBody("Say hi");
            assertThatThrownBy(() -> plain.single(noModel, null, null, null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("model is missing");
            assertThatThrownBy(() -> plain.single(noModel, "gpt-4o-mini", "x".repeat(600), null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("custom_id");

            conf.setBodyParameters(null);
            conf.setMaxBatchBytes(150);
            RequestConverter small = new RequestConverter(conf, MAPPER, null);
            Exchange big = new DefaultExchange(context);
            big.getMessage().setBody("y".repeat(200));
            assertThatThrownBy(() -> small.single(big, "gpt-4o-mini", "b", null))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("over the batch byte limit");
        } finally {
            context.stop();
        }
    }
}
