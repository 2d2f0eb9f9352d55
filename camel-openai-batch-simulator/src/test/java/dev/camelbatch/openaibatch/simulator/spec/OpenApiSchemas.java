package dev.camelbatch.openaibatch.simulator.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.AnnotationKeyword;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Validates JSON against the component schemas of the official OpenAI OpenAPI document
 * ({@code openai-spec/openapi.yaml}, OpenAPI 3.1, so JSON Schema 2020-12) and the per-line schemas
 * ({@code openai-spec/batch-request-line-schemas.yaml}: {@code BatchRequestInput}, {@code BatchRequestOutput}).
 *
 * <p>The spec directory is found as {@code ../openai-spec} relative to the working directory (a module directory
 * under Maven), or {@code ./openai-spec}, or the directory named by the system property {@code openai.spec.dir}. The
 * documents are parsed once and cached.
 *
 * <p>Two adaptations are applied to the schemas, both documented here because they are deliberate:
 * <ol>
 * <li>The line schemas come from an OpenAPI 3.0 version of the spec and use {@code nullable: true}; that is
 * rewritten to its 2020-12 meaning ({@code type: [X, "null"]}).</li>
 * <li>{@link #validate} (the default) lets an <em>optional</em> (not {@code required}) property be {@code null}. The
 * live API sends {@code null} for unset optional fields ({@code "output_file_id": null}, {@code "failed_at": null},
 * {@code "errors": null}, ...), and so do the spec's own examples for the Batch object, while the schema types those
 * fields as plain {@code string}/{@code integer}. Required properties are never relaxed.
 * {@link #validateStrict} applies the schema unchanged (apart from 1.).</li>
 * </ol>
 * Unknown keywords ({@code x-oaiMeta}, {@code x-stainless-const}, ...) and formats ({@code unixtime}) are ignored.
 */
public final class OpenApiSchemas {

    /** Names accepted by {@link #validate}: any component schema of either document, e.g. these. */
    public static final List<String> BATCH_AND_FILE_SCHEMAS = List.of("Batch", "OpenAIFile", "ListBatchesResponse",
            "ListFilesResponse", "DeleteFileResponse", "CreateBatchRequest", "BatchRequestInput", "BatchRequestOutput",
            "ErrorResponse");

    private static final String LENIENT_URI = "https://openai-spec.local/lenient/openapi.json";
    private static final String STRICT_URI = "https://openai-spec.local/strict/openapi.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static volatile Holder holder;

    private OpenApiSchemas() {
    }

    /**
     * Validates {@code node} against {@code #/components/schemas/<schemaName>}, letting optional properties be null.
     *
     * @return the validation messages; empty if valid
     */
    public static List<String> validate(String schemaName, JsonNode node) {
        return holder().validate(schemaName, node, true);
    }

    /** Like {@link #validate} but without relaxing optional properties to nullable. */
    public static List<String> validateStrict(String schemaName, JsonNode node) {
        return holder().validate(schemaName, node, false);
    }

    /** Validates a JSON text. */
    public static List<String> validate(String schemaName, String json) {
        try {
            return validate(schemaName, JSON.readTree(json));
        } catch (IOException e) {
            return List.of("not JSON: " + e.getMessage());
        }
    }

    /** Validates every non-blank line of a JSONL text against {@code schemaName}; messages carry the line number. */
    public static List<String> validateJsonl(String schemaName, String jsonl) {
        List<String> out = new ArrayList<>();
        String[] lines = jsonl.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            for (String m : validate(schemaName, lines[i])) {
                out.add("line " + (i + 1) + ": " + m);
            }
        }
        return out;
    }

    /** The (unmodified) component schema as parsed from the documents. */
    public static JsonNode componentSchema(String schemaName) {
        JsonNode s = holder().original.path(schemaName);
        if (s.isMissingNode()) {
            throw new IllegalArgumentException("no component schema " + schemaName);
        }
        return s.deepCopy();
    }

    /** Where the spec files were found. */
    public static Path specDir() {
        String prop = System.getProperty("openai.spec.dir");
        if (prop != null) {
            return Path.of(prop);
        }
        for (Path p : List.of(Path.of("..", "openai-spec"), Path.of("openai-spec"), Path.of("..", "..", "openai-spec"))) {
            if (Files.isRegularFile(p.resolve("openapi.yaml"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find openai-spec/openapi.yaml from " + Path.of("").toAbsolutePath());
    }

    private static Holder holder() {
        Holder h = holder;
        if (h == null) {
            synchronized (OpenApiSchemas.class) {
                h = holder;
                if (h == null) {
                    h = new Holder(specDir());
                    holder = h;
                }
            }
        }
        return h;
    }

    private static final class Holder {
        final ObjectNode original; // name -> schema
        final JsonSchemaFactory factory;
        final SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().build();
        final Map<String, JsonSchema> lenient = new ConcurrentHashMap<>();
        final Map<String, JsonSchema> strict = new ConcurrentHashMap<>();

        Holder(Path dir) {
            LoaderOptions options = new LoaderOptions();
            options.setCodePointLimit(64 * 1024 * 1024);
            ObjectMapper yaml = new ObjectMapper(YAMLFactory.builder().loaderOptions(options).build());
            JsonNode spec = read(yaml, dir.resolve("openapi.yaml"));
            JsonNode lines = read(yaml, dir.resolve("batch-request-line-schemas.yaml"));
            original = JsonNodeFactory.instance.objectNode();
            original.setAll((ObjectNode) spec.path("components").path("schemas"));
            original.setAll((ObjectNode) lines.path("components").path("schemas"));
            ObjectNode strictSchemas = original.deepCopy();
            convertNullable(strictSchemas);
            ObjectNode lenientSchemas = strictSchemas.deepCopy();
            relaxOptional(lenientSchemas);
            String strictDoc = document(strictSchemas, STRICT_URI);
            String lenientDoc = document(lenientSchemas, LENIENT_URI);
            // OpenAPI extension keywords (x-oaiMeta, example, ...) are annotations: no validation, no warnings
            JsonMetaSchema meta = JsonMetaSchema.builder(JsonMetaSchema.getV202012())
                    .unknownKeywordFactory((keyword, context) -> new AnnotationKeyword(keyword)).build();
            factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
                    b -> b.metaSchema(meta).schemaLoaders(l -> l.schemas(Map.of(STRICT_URI, strictDoc, LENIENT_URI, lenientDoc))));
        }

        List<String> validate(String name, JsonNode node, boolean relaxed) {
            if (!original.has(name)) {
                throw new IllegalArgumentException("no component schema " + name);
            }
            Map<String, JsonSchema> cache = relaxed ? lenient : strict;
            JsonSchema schema = cache.computeIfAbsent(name, n -> {
                JsonSchema s = factory.getSchema(
                        SchemaLocation.of((relaxed ? LENIENT_URI : STRICT_URI) + "#/components/schemas/" + n), config);
                s.initializeValidators();
                return s;
            });
            Set<ValidationMessage> messages = schema.validate(node);
            List<String> out = new ArrayList<>();
            messages.forEach(m -> out.add(m.toString()));
            return out;
        }

        private static String document(ObjectNode schemas, String id) {
            ObjectNode doc = JsonNodeFactory.instance.objectNode();
            doc.put("$schema", "https://json-schema.org/draft/2020-12/schema");
            doc.put("$id", id);
            doc.putObject("components").set("schemas", schemas);
            try {
                return JSON.writeValueAsString(doc);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static JsonNode read(ObjectMapper yaml, Path p) {
            try (InputStream in = Files.newInputStream(p)) {
                return yaml.readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + p, e);
            }
        }
    }

    /** OpenAPI 3.0 {@code nullable: true} -> 2020-12 (recursively). */
    static void convertNullable(JsonNode node) {
        if (node.isObject()) {
            ObjectNode o = (ObjectNode) node;
            JsonNode nullable = o.get("nullable");
            if (nullable != null && nullable.isBoolean()) {
                o.remove("nullable");
                if (nullable.booleanValue()) {
                    JsonNode type = o.get("type");
                    if (type != null && type.isTextual()) {
                        ArrayNode types = o.putArray("type");
                        types.add(type.textValue());
                        types.add("null");
                    } else if (type == null) {
                        ObjectNode copy = o.deepCopy();
                        o.removeAll();
                        ArrayNode any = o.putArray("anyOf");
                        any.add(copy);
                        any.addObject().put("type", "null");
                    }
                }
            }
            for (Iterator<JsonNode> it = o.elements(); it.hasNext();) {
                convertNullable(it.next());
            }
        } else if (node.isArray()) {
            node.forEach(OpenApiSchemas::convertNullable);
        }
    }

    /** Every object schema's non-required properties may also be null (recursively). */
    static void relaxOptional(JsonNode node) {
        if (node.isObject()) {
            ObjectNode o = (ObjectNode) node;
            JsonNode props = o.get("properties");
            if (props != null && props.isObject()) {
                Set<String> required = new HashSet<>();
                o.path("required").forEach(r -> required.add(r.asText()));
                ObjectNode p = (ObjectNode) props;
                for (Iterator<String> it = p.deepCopy().fieldNames(); it.hasNext();) {
                    String name = it.next();
                    if (!required.contains(name) && p.get(name).isObject()) {
                        ObjectNode wrapper = JsonNodeFactory.instance.objectNode();
                        ArrayNode any = wrapper.putArray("anyOf");
                        any.add(p.get(name));
                        any.addObject().put("type", "null");
                        p.set(name, wrapper);
                    }
                }
            }
            for (Iterator<JsonNode> it = o.elements(); it.hasNext();) {
                relaxOptional(it.next());
            }
        } else if (node.isArray()) {
            node.forEach(OpenApiSchemas::relaxOptional);
        }
    }
}
