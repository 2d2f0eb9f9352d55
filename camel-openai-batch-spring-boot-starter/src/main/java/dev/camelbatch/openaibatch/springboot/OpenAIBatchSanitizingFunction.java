package dev.camelbatch.openaibatch.springboot;

import java.util.Locale;

import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;

/**
 * Masks the secrets of the openai-batch properties in Spring Boot's actuator ({@code /actuator/configprops},
 * {@code /actuator/env}) whatever its {@code show-values} setting: the API key, every value of a nested
 * {@code configuration} object, and the user-info ({@code user:password@}) of the base URL; the same for the
 * environment variables the component falls back to ({@code OPENAI_API_KEY}, {@code OPENAI_BASE_URL}).
 * <p>
 * Keys are compared without case and separators, so that every form of a name matches: the bound property
 * ({@code camel.component.openai-batch.apiKey}), the property as written ({@code ...api-key}) and the environment
 * variable ({@code CAMEL_COMPONENT_OPENAIBATCH_APIKEY}).
 */
public class OpenAIBatchSanitizingFunction implements SanitizingFunction {

    private static final String PREFIX = "camelcomponentopenaibatch";

    @Override
    public SanitizableData apply(SanitizableData data) {
        if (data.getValue() == null || data.getKey() == null) {
            return data;
        }
        String key = normalize(data.getKey());
        String option = key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : null;
        if ("openaiapikey".equals(key) || "apikey".equals(option)
            || option != null && option.startsWith("configuration")) {
            return data.withSanitizedValue();
        }
        if ("openaibaseurl".equals(key) || "baseurl".equals(option)) {
            String url = String.valueOf(data.getValue());
            String masked = OpenAIClientConfig.maskUserInfo(url);
            return masked.equals(url) ? data : data.withValue(masked);
        }
        return data;
    }

    private static String normalize(String key) {
        StringBuilder sb = new StringBuilder(key.length());
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isLetterOrDigit(c)) {
                sb.append(c);
            }
        }
        return sb.toString().toLowerCase(Locale.ROOT);
    }
}
