package dev.camelbatch.openaibatch.springboot;

import java.util.Set;

import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.convert.TypeDescriptor;
import org.springframework.core.convert.converter.GenericConverter;

/**
 * Lets object options be given as bean references in properties, as Camel's starters do:
 * {@code camel.component.openai-batch.ssl-context-parameters=#bean:mySsl} (or {@code #mySsl}).
 */
@AutoConfiguration
public class OpenAIBatchComponentConverter {

    @Bean
    @ConfigurationPropertiesBinding
    public static GenericConverter openAIBatchBeanReferenceConverter(ApplicationContext applicationContext) {
        return new BeanReferenceConverter(applicationContext);
    }

    static final class BeanReferenceConverter implements GenericConverter {

        private final ApplicationContext applicationContext;

        BeanReferenceConverter(ApplicationContext applicationContext) {
            this.applicationContext = applicationContext;
        }

        @Override
        public Set<ConvertiblePair> getConvertibleTypes() {
            return Set.of(new ConvertiblePair(String.class, SSLContextParameters.class),
                    new ConvertiblePair(String.class, OpenAIBatchConfiguration.class));
        }

        @Override
        public Object convert(Object source, TypeDescriptor sourceType, TypeDescriptor targetType) {
            if (source == null) {
                return null;
            }
            String ref = source.toString();
            if (!ref.startsWith("#")) {
                return null;
            }
            ref = ref.startsWith("#bean:") ? ref.substring("#bean:".length()) : ref.substring(1);
            return applicationContext.getBean(ref, targetType.getType());
        }
    }
}
