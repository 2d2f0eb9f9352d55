package dev.camelbatch.openaibatch.springboot;

import java.util.Map;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import org.apache.camel.CamelContext;
import org.apache.camel.Component;
import org.apache.camel.spi.ComponentCustomizer;
import org.apache.camel.spring.boot.CamelAutoConfiguration;
import org.apache.camel.spring.boot.ComponentConfigurationProperties;
import org.apache.camel.spring.boot.util.CamelPropertiesHelper;
import org.apache.camel.spring.boot.util.ConditionalOnCamelContextAndAutoConfigurationBeans;
import org.apache.camel.spring.boot.util.ConditionalOnHierarchicalProperties;
import org.apache.camel.spring.boot.util.HierarchicalPropertiesEvaluator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Lazy;

/**
 * Configures the openai-batch component from {@code camel.component.openai-batch.*}, the way Camel's own starters do:
 * a {@link ComponentCustomizer} that Camel applies when it creates the component, which copies every property that
 * is set onto the component (through the component's generated configurer, so {@code api-key} reaches
 * {@code configuration.apiKey}). Off with {@code camel.component.openai-batch.enabled=false}; the customizer alone off
 * with {@code camel.component.openai-batch.customizer.enabled=false}.
 */
@AutoConfiguration(after = { CamelAutoConfiguration.class, OpenAIBatchComponentConverter.class })
@Conditional(ConditionalOnCamelContextAndAutoConfigurationBeans.class)
@EnableConfigurationProperties({ ComponentConfigurationProperties.class, OpenAIBatchComponentConfiguration.class })
@ConditionalOnHierarchicalProperties({ "camel.component", "camel.component.openai-batch" })
public class OpenAIBatchComponentAutoConfiguration {

    static final String PREFIX = "camel.component.openai-batch";

    private final ApplicationContext applicationContext;
    private final CamelContext camelContext;
    private final OpenAIBatchComponentConfiguration configuration;

    public OpenAIBatchComponentAutoConfiguration(ApplicationContext applicationContext, CamelContext camelContext,
                                                 OpenAIBatchComponentConfiguration configuration) {
        this.applicationContext = applicationContext;
        this.camelContext = camelContext;
        this.configuration = configuration;
    }

    @Lazy
    @Bean
    public ComponentCustomizer configureOpenAIBatchComponent() {
        return new ComponentCustomizer() {
            @Override
            public void configure(String name, Component target) {
                Map<String, Object> properties = CamelPropertiesHelper.getNonNullProperties(camelContext,
                        configuration);
                // the starter's own switches are not component options
                properties.remove("enabled");
                properties.remove("customizer");
                CamelPropertiesHelper.setCamelProperties(camelContext, target, properties, true);
            }

            @Override
            public boolean isEnabled(String name, Component target) {
                return HierarchicalPropertiesEvaluator.evaluate(applicationContext, "camel.component.customizer",
                        PREFIX + ".customizer")
                       && target instanceof OpenAIBatchComponent;
            }
        };
    }
}
