package dev.camelbatch.openaibatch.springboot;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.camel.util.json.JsonObject;
import org.apache.camel.util.json.Jsoner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link OpenAIBatchComponentConfiguration} mirrors the component options of the catalog (the component jar's
 * {@code openai-batch.json}): one property per option, with its type, default and description. The class is written
 * from the catalog by this test: it fails when they differ, and {@code -Dopenai-batch.update-starter=true} rewrites the
 * class (then build again, so that the configuration metadata follows).
 */
@Timeout(120)
class OpenAIBatchComponentConfigurationTest {

    static final Path SOURCE = Path.of(
            "src/main/java/dev/camelbatch/openaibatch/springboot/OpenAIBatchComponentConfiguration.java");

    @Test
    void everyComponentOptionHasAProperty() throws Exception {
        JsonObject options = componentProperties();
        String expected = render(options);
        if (Boolean.getBoolean("openai-batch.update-starter")) {
            Files.writeString(SOURCE, expected, StandardCharsets.UTF_8);
        }
        String actual = Files.readString(SOURCE, StandardCharsets.UTF_8);
        assertThat(actual).as("%s is out of date with the component options: run the starter's tests with"
                              + " -Dopenai-batch.update-starter=true", SOURCE).isEqualTo(expected);
        // and the compiled class has a getter and setter for each
        for (String name : options.keySet()) {
            String cap = Character.toUpperCase(name.charAt(0)) + name.substring(1);
            List<String> methods = new ArrayList<>();
            for (var m : OpenAIBatchComponentConfiguration.class.getDeclaredMethods()) {
                methods.add(m.getName());
            }
            assertThat(methods).as("accessors of %s", name).contains("set" + cap).containsAnyOf("get" + cap);
        }
    }

    static JsonObject componentProperties() throws Exception {
        try (InputStream in = OpenAIBatchComponentConfigurationTest.class.getClassLoader()
                .getResourceAsStream("META-INF/dev/camelbatch/openaibatch/openai-batch.json")) {
            assertThat(in).as("the component's catalog JSON on the class path").isNotNull();
            JsonObject root = (JsonObject) Jsoner.deserialize(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            return (JsonObject) root.get("componentProperties");
        }
    }

    static String render(JsonObject options) {
        StringBuilder f = new StringBuilder();
        StringBuilder a = new StringBuilder();
        for (Map.Entry<String, Object> e : options.entrySet()) {
            String name = e.getKey();
            JsonObject o = (JsonObject) e.getValue();
            String type = boxed(o.getString("javaType"));
            String def = o.containsKey("defaultValue") ? literal(type, String.valueOf(o.get("defaultValue"))) : null;
            f.append("    /**\n");
            for (String line : wrap(javadoc(o), 112)) {
                f.append("     * ").append(line).append('\n');
            }
            f.append("     */\n");
            f.append("    private ").append(type).append(' ').append(name).append(def != null ? " = " + def : "")
                    .append(";\n");
            String cap = Character.toUpperCase(name.charAt(0)) + name.substring(1);
            a.append('\n');
            a.append("    public ").append(type).append(" get").append(cap).append("() {\n");
            a.append("        return ").append(name).append(";\n    }\n\n");
            a.append("    public void set").append(cap).append('(').append(type).append(' ').append(name)
                    .append(") {\n");
            a.append("        this.").append(name).append(" = ").append(name).append(";\n    }\n");
        }
        return "package dev.camelbatch.openaibatch.springboot;\n\n"
               + "import org.apache.camel.spring.boot.ComponentConfigurationPropertiesCommon;\n"
               + "import org.springframework.boot.context.properties.ConfigurationProperties;\n\n"
               + "/**\n"
               + " * The options of the openai-batch component as Spring Boot properties {@code camel.component.openai-batch.*}\n"
               + " * (kebab case, e.g. {@code camel.component.openai-batch.api-key}). Options set here become the component's\n"
               + " * options, the defaults of every openai-batch endpoint.\n"
               + " * <p>\n"
               + " * Written from the component's catalog by OpenAIBatchComponentConfigurationTest\n"
               + " * ({@code -Dopenai-batch.update-starter=true}): do not edit by hand. Long by nature: one field, getter\n"
               + " * and setter per option of the component.\n"
               + " */\n"
               + "@ConfigurationProperties(prefix = \"camel.component.openai-batch\")\n"
               + "public class OpenAIBatchComponentConfiguration extends ComponentConfigurationPropertiesCommon {\n\n"
               + f + a + "}\n";
    }

    private static String javadoc(JsonObject o) {
        String d = o.getString("description");
        d = d == null ? "" : d.trim();
        if (!d.endsWith(".")) {
            d = d + ".";
        }
        String javaType = o.getString("javaType");
        if ("object".equals(o.getString("type"))) {
            d = d + " The option is a " + javaType + " type (a bean reference #bean:name where Spring cannot convert).";
        }
        if (Boolean.TRUE.equals(o.get("secret"))) {
            d = d + " Secret: masked in logs.";
        }
        return d.replace("*/", "*&#47;").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("@", "&#64;");
    }

    private static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        if (line.length() > 0) {
            lines.add(line.toString());
        }
        return lines;
    }

    private static String boxed(String javaType) {
        return switch (javaType) {
            case "boolean" -> "Boolean";
            case "int" -> "Integer";
            case "long" -> "Long";
            case "double" -> "Double";
            case "java.lang.String" -> "String";
            case "java.lang.Object" -> "Object";
            case "java.lang.Integer" -> "Integer";
            case "java.lang.Long" -> "Long";
            case "java.lang.Boolean" -> "Boolean";
            default -> javaType;
        };
    }

    private static String literal(String type, String value) {
        return switch (type) {
            case "Boolean" -> value;
            case "Integer" -> value;
            case "Long" -> value + "L";
            case "Double" -> value + "D";
            case "String" -> "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            default -> type + "." + value;
        };
    }
}
