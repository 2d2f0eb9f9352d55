package dev.camelbatch.openaibatch;

import java.util.HashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.CatalogCamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.PropertyConfigurer;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jar carries the generated Camel metadata: component JSON with every option and header, configurers and the
 * URI factory, found through the CamelContext like any Camel component.
 */
@Timeout(300)
class ComponentMetadataTest extends CamelTestSupport {

    @Test
    void componentJsonListsEveryOptionAndMarksTheKeySecret() throws Exception {
        String json = ((CatalogCamelContext) context).getComponentParameterJsonSchema("openai-batch");
        assertThat(json).as("component JSON found through the catalog").isNotNull();
        JsonNode root = new ObjectMapper().readTree(json);
        assertThat(root.path("component").path("scheme").asText()).isEqualTo("openai-batch");
        assertThat(root.path("component").path("syntax").asText()).isEqualTo("openai-batch:name");
        JsonNode apiKey = root.path("properties").path("apiKey");
        assertThat(apiKey.path("secret").asBoolean()).isTrue();
        assertThat(root.path("componentProperties").path("apiKey").path("secret").asBoolean()).isTrue();

        // every @UriParam of the configuration appears as an endpoint option, and as a component option
        Set<String> fields = new HashSet<>();
        for (java.lang.reflect.Field f : OpenAIBatchConfiguration.class.getDeclaredFields()) {
            if (f.isAnnotationPresent(org.apache.camel.spi.UriParam.class)) {
                fields.add(f.getName());
            }
        }
        assertThat(fields).hasSizeGreaterThan(30);
        for (String f : fields) {
            assertThat(root.path("properties").has(f)).as("endpoint option %s", f).isTrue();
            assertThat(root.path("componentProperties").has(f)).as("component option %s", f).isTrue();
        }
        assertThat(root.path("properties").path("bodyParameters").path("prefix").asText()).isEqualTo("body.");

        // headers from the headers class
        JsonNode headers = root.path("headers");
        for (java.lang.reflect.Field f : OpenAIBatchConstants.class.getDeclaredFields()) {
            if (f.isAnnotationPresent(org.apache.camel.spi.Metadata.class)) {
                assertThat(headers.has((String) f.get(null))).as("header %s", f.get(null)).isTrue();
            }
        }
    }

    @Test
    void configurersAndUriFactoryAreGenerated() throws Exception {
        PropertyConfigurer endpointConfigurer = org.apache.camel.support.PluginHelper.getConfigurerResolver(context)
                .resolvePropertyConfigurer("openai-batch-endpoint", context);
        assertThat(endpointConfigurer).isNotNull();
        PropertyConfigurer componentConfigurer = org.apache.camel.support.PluginHelper.getConfigurerResolver(context)
                .resolvePropertyConfigurer("openai-batch-component", context);
        assertThat(componentConfigurer).isNotNull();
        assertThat(context.getCamelContextExtension().getEndpointUriFactory("openai-batch")).isNotNull();
        String uri = context.getCamelContextExtension().getEndpointUriFactory("openai-batch")
                .buildUri("openai-batch", java.util.Map.of("name", "reviews", "model", "gpt-4o-mini"));
        assertThat(uri).isEqualTo("openai-batch:reviews?model=gpt-4o-mini");
    }

    @Test
    void theKeyNeverShowsInThePrintedUri() throws Exception {
        Endpoint endpoint = context.getEndpoint(
                "openai-batch:reviews?apiKey=sk-test-SECRETKEY-1234567890&model=gpt-4o-mini&storeDirectory=target/meta");
        assertThat(endpoint.toString()).doesNotContain("SECRETKEY");
        assertThat(endpoint.getEndpointBaseUri()).doesNotContain("SECRETKEY");
        assertThat(org.apache.camel.util.URISupport.sanitizeUri(endpoint.getEndpointUri())).doesNotContain("SECRETKEY");
        OpenAIBatchEndpoint e = (OpenAIBatchEndpoint) endpoint;
        assertThat(e.getConfiguration().getApiKey()).isEqualTo("sk-test-SECRETKEY-1234567890");
        assertThat(e.getConfiguration().getModel()).isEqualTo("gpt-4o-mini");
    }

    @Test
    void bodyParametersArePrefixed() {
        OpenAIBatchEndpoint e = (OpenAIBatchEndpoint) context.getEndpoint(
                "openai-batch:params?body.temperature=0&body.max_tokens=64&model=m&storeDirectory=target/meta");
        assertThat(e.getConfiguration().getBodyParameters()).containsEntry("temperature", "0")
                .containsEntry("max_tokens", "64");
    }
}
