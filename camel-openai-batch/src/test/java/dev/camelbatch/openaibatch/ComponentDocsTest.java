package dev.camelbatch.openaibatch;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.CatalogCamelContext;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The option and header tables of {@code openai-batch-component.adoc} are rendered from the generated component
 * JSON. This test fails when they are out of date; {@code -Dopenai-batch.update-docs=true} rewrites them.
 */
@Timeout(300)
class ComponentDocsTest extends CamelTestSupport {

    private static final Path DOC = Path.of("src/main/docs/openai-batch-component.adoc");

    @Test
    void optionTablesMatchTheGeneratedCatalog() throws Exception {
        JsonNode root = new ObjectMapper().readTree(
                ((CatalogCamelContext) context).getComponentParameterJsonSchema("openai-batch"));
        String doc = Files.readString(DOC, StandardCharsets.UTF_8);
        String updated = replace(doc, "table component options", table(root.path("componentProperties"), false));
        updated = replace(updated, "table endpoint options", table(root.path("properties"), true));
        updated = replace(updated, "table message headers", headers(root.path("headers")));
        if (Boolean.getBoolean("openai-batch.update-docs")) {
            Files.writeString(DOC, updated, StandardCharsets.UTF_8);
        }
        assertThat(updated).as("the tables of %s are out of date: run the build with"
                               + " -Dopenai-batch.update-docs=true", DOC).isEqualTo(doc);
    }

    private static String replace(String doc, String marker, String content) {
        String start = "// " + marker + ": START\n";
        String end = "// " + marker + ": END";
        int a = doc.indexOf(start);
        int b = doc.indexOf(end);
        assertThat(a).as("marker %s", start).isNotNegative();
        assertThat(b).as("marker %s", end).isGreaterThan(a);
        return doc.substring(0, a + start.length()) + content + doc.substring(b);
    }

    private static String table(JsonNode props, boolean endpoint) {
        StringBuilder sb = new StringBuilder();
        sb.append("[width=\"100%\",cols=\"2,5,^1,2\",options=\"header\"]\n|===\n");
        sb.append("| Name | Description | Default | Type\n");
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode p = e.getValue();
            String name = e.getKey();
            if (endpoint && "path".equals(p.path("kind").asText())) {
                name = name + " (path)";
            }
            String group = p.path("group").asText();
            sb.append("| *").append(name).append("* (").append(group).append(") | ")
                    .append(escape(p.path("description").asText()));
            if (p.path("secret").asBoolean()) {
                sb.append(" _Secret: masked in logs and printed URIs._");
            }
            if (p.has("enum")) {
                sb.append(" Values: ");
                for (int i = 0; i < p.get("enum").size(); i++) {
                    sb.append(i > 0 ? ", " : "").append('`').append(p.get("enum").get(i).asText()).append('`');
                }
                sb.append('.');
            }
            sb.append(" | ").append(p.has("defaultValue") ? escape(p.get("defaultValue").asText()) : "")
                    .append(" | ").append(p.path("type").asText()).append('\n');
        }
        sb.append("|===\n");
        return sb.toString();
    }

    private static String headers(JsonNode headers) {
        StringBuilder sb = new StringBuilder();
        sb.append("[width=\"100%\",cols=\"3,5,1,1\",options=\"header\"]\n|===\n");
        sb.append("| Name | Description | Type | Used by\n");
        for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode h = e.getValue();
            sb.append("| `").append(e.getKey()).append("` | ").append(escape(h.path("description").asText()))
                    .append(" | ").append(h.path("javaType").asText()).append(" | ")
                    .append(h.path("label").asText("producer, consumer")).append('\n');
        }
        sb.append("|===\n");
        return sb.toString();
    }

    private static String escape(String s) {
        return s.replace("|", "\\|");
    }
}
