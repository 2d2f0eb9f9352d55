package dev.camelbatch.openaibatch.springboot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.actuate.context.properties.ConfigurationPropertiesReportEndpoint;
import org.springframework.boot.actuate.context.properties.ConfigurationPropertiesReportEndpoint.ConfigurationPropertiesBeanDescriptor;
import org.springframework.boot.actuate.env.EnvironmentEndpoint;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The actuator never shows the API key or the user-info of a base URL of the openai-batch properties, even with
 * {@code show-values=always}: {@code /actuator/configprops} (the key, the nested configuration object, the base URL's
 * {@code user:password@}) and {@code /actuator/env}. Neither do the toString of the bound properties nor the
 * component's configuration.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@SpringBootTest(classes = OpenAIBatchActuatorMaskingTest.App.class, properties = {
        "camel.component.openai-batch.api-key=" + OpenAIBatchActuatorMaskingTest.KEY,
        "camel.component.openai-batch.base-url=https://proxy-user:pa55word@gateway.example.com/v1",
        "camel.component.openai-batch.configuration=#bean:batchDefaults",
        "camel.main.name=openai-batch-masking-test",
        "management.endpoints.web.exposure.include=configprops,env",
        "management.endpoints.jmx.exposure.include=configprops,env",
        "management.endpoint.configprops.show-values=always",
        "management.endpoint.env.show-values=always" })
class OpenAIBatchActuatorMaskingTest {

    static final String KEY = "sk-test-CANARY-boot-0123456789";
    static final String NESTED_KEY = "sk-test-CANARY-nested-9876543210";

    @SpringBootApplication
    static class App {
        @Bean
        OpenAIBatchConfiguration batchDefaults() {
            OpenAIBatchConfiguration c = new OpenAIBatchConfiguration();
            c.setApiKey(NESTED_KEY);
            c.setBaseUrl("https://nested-user:n3sted@gateway.example.com/v1");
            c.setModel("gpt-4o-mini");
            return c;
        }
    }

    @Autowired
    ConfigurationPropertiesReportEndpoint configprops;
    @Autowired
    EnvironmentEndpoint env;
    @Autowired
    OpenAIBatchComponentConfiguration properties;
    @Autowired
    CamelContext context;

    @Test
    void configpropsMasksTheKeyTheNestedConfigurationAndTheUserInfo() {
        ConfigurationPropertiesBeanDescriptor bean = configprops
                .configurationPropertiesWithPrefix("camel.component.openai-batch").getContexts().values().stream()
                .flatMap(c -> c.getBeans().values().stream())
                .filter(b -> "camel.component.openai-batch".equals(b.getPrefix())).findFirst().orElseThrow();
        Map<String, Object> shown = bean.getProperties();
        String all = shown + " " + bean.getInputs();
        assertThat(all).doesNotContain("CANARY").doesNotContain("pa55word").doesNotContain("proxy-user")
                .doesNotContain("n3sted");
        assertThat(shown.get("apiKey")).isEqualTo("******");
        assertThat(shown.get("baseUrl")).isEqualTo("https://****@gateway.example.com/v1");
        // the nested configuration's values are all masked (its key among them)
        assertThat(shown.get("configuration")).isInstanceOfSatisfying(Map.class,
                m -> assertThat(((Map<?, ?>) m).values()).isNotEmpty().allSatisfy(v -> assertThat(v)
                        .isIn("******", null)));
    }

    @Test
    void envMasksTheKeyAndTheUserInfo() {
        List<Object> values = new ArrayList<>();
        env.environment(null).getPropertySources().forEach(ps -> ps.getProperties().forEach((name, v) -> {
            if (name.contains("openai-batch")) {
                values.add(name + "=" + v.getValue());
            }
        }));
        assertThat(values).isNotEmpty();
        assertThat(values.toString()).doesNotContain("CANARY").doesNotContain("pa55word")
                .contains("camel.component.openai-batch.api-key=******")
                .contains("camel.component.openai-batch.base-url=https://****@gateway.example.com/v1");
    }

    @Test
    void toStringsNeverShowTheKey() {
        assertThat(properties.getApiKey()).isEqualTo(KEY);
        assertThat(properties.toString()).doesNotContain("CANARY");
        OpenAIBatchComponent component = context.getComponent("openai-batch", OpenAIBatchComponent.class);
        assertThat(component.getConfiguration().toString()).doesNotContain("CANARY").doesNotContain("pa55word");
        assertThat(properties.getConfiguration().toString()).doesNotContain("CANARY").doesNotContain("n3sted");
    }
}
