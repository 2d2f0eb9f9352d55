package dev.camelbatch.openaibatch.springboot;

import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * With Spring Boot's actuator on the class path: the {@link OpenAIBatchSanitizingFunction} that keeps the API key and
 * the user-info of the base URL out of {@code /actuator/configprops} and {@code /actuator/env}, whatever their
 * {@code show-values} setting.
 */
@AutoConfiguration
@ConditionalOnClass(SanitizingFunction.class)
public class OpenAIBatchActuatorAutoConfiguration {

    @Bean
    public OpenAIBatchSanitizingFunction openAIBatchSanitizingFunction() {
        return new OpenAIBatchSanitizingFunction();
    }
}
