package dev.camelbatch.openaibatch.producer;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.lines.TokenEstimator;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.support.PatternHelper;

/**
 * Turns what an exchange carries into validated request lines: a prompt, a message list, a body (Map, JsonNode,
 * POJO), a ready request line, or a whole JSONL document.
 * <p>
 * Over 500 lines on purpose: every input kind and its checks in one place, plus the templated fast path of plain
 * prompts (the producer's hot path), which must stay byte for byte equal to the general path beside it.
 */
public final class RequestConverter {

    private final OpenAIBatchConfiguration conf;
    private final ObjectMapper mapper;
    private final Map<String, JsonNode> defaults;
    private final String[] carryPatterns;
    private final TokenEstimator estimator;
    private final String wireEndpoint;
    private final PromptTemplate promptTemplate;

    public RequestConverter(OpenAIBatchConfiguration conf, ObjectMapper mapper, TokenEstimator estimator) {
        this.conf = conf;
        this.mapper = mapper;
        this.estimator = estimator;
        RequestLines.checkEndpoint(conf.getEndpoint());
        // Azure's classic API (dated api-version) names endpoints without /v1, in the JSONL lines too
        this.wireEndpoint = conf.isAzure()
                ? OpenAIBatchClient.azureEndpointValue(conf.getEndpoint(), conf.getAzureApiVersion())
                : conf.getEndpoint();
        this.promptTemplate = promptTemplate();
        this.defaults = new LinkedHashMap<>();
        if (conf.getBodyParameters() != null) {
            for (Map.Entry<String, Object> e : conf.getBodyParameters().entrySet()) {
                defaults.put(e.getKey(), toJson(e.getValue()));
            }
        }
        if (conf.getCarryHeaders() != null && !conf.getCarryHeaders().isBlank()) {
            this.carryPatterns = Arrays.stream(conf.getCarryHeaders().split(","))
                    .map(String::trim).filter(s -> !s.isEmpty()).toArray(String[]::new);
        } else {
            this.carryPatterns = new String[0];
        }
    }

    /** A body parameter value: JSON when it parses as JSON (numbers, booleans, objects), else a string. */
    private JsonNode toJson(Object value) {
        if (value instanceof String s) {
            String t = s.trim();
            if (!t.isEmpty() && (Character.isDigit(t.charAt(0)) || t.charAt(0) == '-' || t.charAt(0) == '{'
                    || t.charAt(0) == '[' || t.equals("true") || t.equals("false") || t.equals("null"))) {
                try {
                    return mapper.readTree(t);
                } catch (JsonProcessingException e) {
                    return mapper.getNodeFactory().textNode(s);
                }
            }
            return mapper.getNodeFactory().textNode(s);
        }
        return mapper.valueToTree(value);
    }

    /** Whether the body is a JSONL document rather than a single request. */
    public static boolean isDocument(Object body) {
        return body instanceof GenericFile || body instanceof File || body instanceof Path
               || body instanceof InputStream || body instanceof byte[];
    }

    public static InputStream openDocument(Exchange exchange, Object body) throws IOException {
        if (body instanceof GenericFile<?> gf) {
            Object f = gf.getFile();
            if (f instanceof File file) {
                return new java.io.FileInputStream(file);
            }
            InputStream in = exchange.getContext().getTypeConverter().convertTo(InputStream.class, exchange, body);
            if (in == null) {
                throw new InvalidRequestException("body", "cannot read the file " + gf.getFileName());
            }
            return in;
        }
        if (body instanceof File f) {
            return new java.io.FileInputStream(f);
        }
        if (body instanceof Path p) {
            return java.nio.file.Files.newInputStream(p);
        }
        if (body instanceof InputStream in) {
            return in;
        }
        return new java.io.ByteArrayInputStream((byte[]) body);
    }

    /** The carried headers of an exchange as JSON, or null. */
    public byte[] carriedHeaders(Exchange exchange) throws IOException {
        if (carryPatterns.length == 0) {
            return null;
        }
        ObjectNode out = null;
        for (Map.Entry<String, Object> h : exchange.getMessage().getHeaders().entrySet()) {
            if (!matches(h.getKey())) {
                continue;
            }
            if (out == null) {
                out = mapper.createObjectNode();
            }
            out.set(h.getKey(), encodeHeader(h.getKey(), h.getValue()));
        }
        return out == null ? null : mapper.writeValueAsBytes(out);
    }

    private boolean matches(String header) {
        for (String p : carryPatterns) {
            if (PatternHelper.matchPattern(header, p)) {
                return true;
            }
        }
        return false;
    }

    /** Strings and booleans as themselves, numbers with their Java type so they come back as they went. */
    private JsonNode encodeHeader(String name, Object v) {
        if (v == null) {
            return mapper.getNodeFactory().nullNode();
        }
        if (v instanceof String s) {
            return mapper.getNodeFactory().textNode(s);
        }
        if (v instanceof Boolean b) {
            return mapper.getNodeFactory().booleanNode(b);
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                || v instanceof Double || v instanceof Float || v instanceof BigDecimal || v instanceof BigInteger
                || v instanceof Character) {
            ObjectNode n = mapper.createObjectNode();
            n.put("t", v.getClass().getSimpleName());
            n.put("v", v.toString());
            return n;
        }
        throw new InvalidRequestException("header." + name, "header '" + name + "' is a " + v.getClass().getName()
                                                            + ", which cannot be carried faithfully; carried headers"
                                                            + " must be strings, numbers or booleans (convert it"
                                                            + " first)");
    }

    /** Restores carried headers written by {@link #carriedHeaders}. */
    public static void restoreHeaders(ObjectMapper mapper, byte[] json, Map<String, Object> headers) throws IOException {
        JsonNode n = mapper.readTree(json);
        n.fields().forEachRemaining(e -> {
            JsonNode v = e.getValue();
            Object value;
            if (v.isNull()) {
                value = null;
            } else if (v.isTextual()) {
                value = v.asText();
            } else if (v.isBoolean()) {
                value = v.asBoolean();
            } else if (v.isObject() && v.has("t")) {
                String s = v.path("v").asText();
                value = switch (v.path("t").asText()) {
                    case "Integer" -> Integer.valueOf(s);
                    case "Long" -> Long.valueOf(s);
                    case "Short" -> Short.valueOf(s);
                    case "Byte" -> Byte.valueOf(s);
                    case "Double" -> Double.valueOf(s);
                    case "Float" -> Float.valueOf(s);
                    case "BigDecimal" -> new BigDecimal(s);
                    case "BigInteger" -> new BigInteger(s);
                    case "Character" -> s.charAt(0);
                    default -> s;
                };
            } else {
                value = v.toString();
            }
            headers.put(e.getKey(), value);
        });
    }

    /** One request from a single-request body. */
    public Converted single(Exchange exchange, String model, String headerCustomId, byte[] carried) throws IOException {
        Object body = exchange.getMessage().getBody();
        if (body == null) {
            throw new InvalidRequestException("body", "the message body is empty: send a prompt, a message list, a"
                                                      + " request body or a request line");
        }
        String endpoint = wireEndpoint;
        ObjectNode reqBody;
        String customId = headerCustomId;
        if (body instanceof CharSequence cs && direct(model)) {
            // the common case, a text prompt: written straight to its line (no tree, nothing to merge or estimate)
            if (customId == null) {
                customId = newId();
            }
            RequestLines.checkCustomId(customId);
            RequestLines.checkModel(model);
            return new Converted(model, new SpoolRecord(customId, promptLine(customId, model, cs.toString()), carried,
                    0));
        }
        if (body instanceof String s) {
            reqBody = promptBody(s, model);
        } else if (body instanceof CharSequence cs) {
            reqBody = promptBody(cs.toString(), model);
        } else {
            JsonNode tree;
            try {
                tree = body instanceof JsonNode j ? j.deepCopy() : mapper.valueToTree(body);
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException("body", "the body (" + body.getClass().getName()
                                                          + ") cannot be serialised to JSON: " + e.getMessage());
            }
            if (tree.isArray()) {
                reqBody = listBody((ArrayNode) tree, model);
            } else if (tree.isObject() && tree.has("body") && (tree.has("custom_id") || tree.has("url"))) {
                ObjectNode line = (ObjectNode) tree;
                if (customId == null && line.hasNonNull("custom_id")) {
                    customId = line.get("custom_id").asText();
                }
                JsonNode b = line.get("body");
                if (b == null || !b.isObject()) {
                    throw new InvalidRequestException("body", "the request line's body must be a JSON object");
                }
                reqBody = (ObjectNode) b;
                fillModel(reqBody, model);
                RequestLines.applyDefaults(reqBody, defaults);
                if (customId == null) {
                    customId = newId();
                }
                line.put("custom_id", customId);
                line.set("body", reqBody);
                normalizeUrl(line);
                byte[] bytes = RequestLines.validateAndSerialize(mapper, line, endpoint, conf.getMaxBatchBytes());
                return new Converted(reqBody.get("model").asText(), new SpoolRecord(customId, bytes, carried,
                        estimate(reqBody)));
            } else if (tree.isObject()) {
                reqBody = (ObjectNode) tree;
                fillModel(reqBody, model);
                RequestLines.applyDefaults(reqBody, defaults);
            } else {
                throw new InvalidRequestException("body", "the body must be a prompt, a message list, an object or a"
                                                          + " request line; was " + tree.getNodeType());
            }
        }
        if (customId == null) {
            customId = newId();
        }
        ObjectNode line = mapper.createObjectNode();
        line.put("custom_id", customId);
        line.put("method", "POST");
        line.put("url", endpoint);
        line.set("body", reqBody);
        byte[] bytes = RequestLines.validateAndSerialize(mapper, line, endpoint, conf.getMaxBatchBytes());
        return new Converted(reqBody.get("model").asText(), new SpoolRecord(customId, bytes, carried,
                estimate(reqBody)));
    }

    /**
     * One request from a line of a JSONL document: a request line, or a body (no custom_id/url: gets an id and the
     * endpoint).
     */
    public Converted documentLine(byte[] raw, long lineNumber, String model, byte[] carried) {
        JsonNode tree;
        try {
            // Jackson's UTF-8 parser rejects malformed UTF-8 sequences, so no separate decoding pass is needed
            tree = mapper.readTree(raw);
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage();
            if (m != null && m.contains("UTF-8")) {
                throw new InvalidRequestException("line", lineNumber, "is not valid UTF-8: " + m);
            }
            throw new InvalidRequestException("line", lineNumber, "not valid JSON: " + m);
        } catch (IOException e) {
            throw new InvalidRequestException("line", lineNumber, "cannot be read: " + e.getMessage());
        }
        try {
            if (!tree.isObject()) {
                throw new InvalidRequestException("line", "a JSONL line must be a JSON object, was "
                                                          + tree.getNodeType());
            }
            ObjectNode line = (ObjectNode) tree;
            ObjectNode body;
            if (line.has("body") && (line.has("custom_id") || line.has("url") || line.has("method"))) {
                JsonNode b = line.get("body");
                if (b == null || !b.isObject()) {
                    throw new InvalidRequestException("body", "the request line's body must be a JSON object");
                }
                body = (ObjectNode) b;
                if (!line.hasNonNull("custom_id")) {
                    line.put("custom_id", newId());
                }
            } else {
                body = line;
                line = mapper.createObjectNode();
                line.put("custom_id", newId());
                line.put("method", "POST");
                line.put("url", wireEndpoint);
                line.set("body", body);
            }
            fillModel(body, model);
            RequestLines.applyDefaults(body, defaults);
            normalizeUrl(line);
            byte[] bytes = RequestLines.validateAndSerialize(mapper, line, wireEndpoint,
                    conf.getMaxBatchBytes());
            return new Converted(body.get("model").asText(),
                    new SpoolRecord(line.get("custom_id").asText(), bytes, carried, estimate(body)));
        } catch (InvalidRequestException e) {
            throw e.atLine(lineNumber);
        } catch (IOException e) {
            throw new InvalidRequestException("line", lineNumber, e.getMessage());
        }
    }

    /** Whether a prompt's line can be written without its tree: a model, no body parameters, no token estimate. */
    boolean direct(String model) {
        return estimator == null && defaults.isEmpty() && model != null && !model.isBlank();
    }

    /**
     * The request line of a text prompt, byte for byte what {@link #promptBody} and
     * {@link RequestLines#validateAndSerialize} make of it (which {@code RequestConverterDirectTest} checks).
     * Where the custom id, the model and the prompt are plain ASCII (nothing JSON escapes), they are copied between
     * the line's fixed bytes, which the generator wrote once ({@link #promptTemplate}); anything else goes through
     * the generator.
     */
    byte[] promptLine(String customId, String model, String prompt) throws IOException {
        PromptTemplate t = promptTemplate;
        byte[] bytes = t != null ? t.fill(customId, model, prompt) : null;
        if (bytes == null) {
            bytes = generatedPromptLine(customId, model, prompt);
        }
        if (bytes.length + 1 > conf.getMaxBatchBytes()) {
            throw new InvalidRequestException("body", "the request line is " + bytes.length
                                                      + " bytes, over the batch byte limit of "
                                                      + conf.getMaxBatchBytes() + " bytes");
        }
        return bytes;
    }

    /** Whether plain prompt lines are copied into a template (false only if the generator's line was unexpected). */
    boolean promptTemplated() {
        return promptTemplate != null;
    }

    private byte[] generatedPromptLine(String customId, String model, String prompt) throws IOException {
        String system = conf.getSystemMessage();
        ByteArrayBuilder out = new ByteArrayBuilder(160 + prompt.length() + (system != null ? system.length() : 0));
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            RequestLines.writeLineHead(g, customId, wireEndpoint);
            g.writeStartObject();
            g.writeStringField("model", model);
            switch (conf.getEndpoint()) {
                case "/v1/chat/completions" -> {
                    g.writeArrayFieldStart("messages");
                    if (system != null) {
                        g.writeStartObject();
                        g.writeStringField("role", "system");
                        g.writeStringField("content", system);
                        g.writeEndObject();
                    }
                    g.writeStartObject();
                    g.writeStringField("role", "user");
                    g.writeStringField("content", prompt);
                    g.writeEndObject();
                    g.writeEndArray();
                }
                case "/v1/responses" -> {
                    if (system != null) {
                        g.writeStringField("instructions", system);
                    }
                    g.writeStringField("input", prompt);
                }
                case "/v1/completions" -> g.writeStringField("prompt", prompt);
                default -> g.writeStringField("input", prompt);
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    /** The generator's prompt line with empty strings, and where the custom id, the model and the prompt go. */
    private PromptTemplate promptTemplate() {
        try {
            byte[] empty = generatedPromptLine("", "", "");
            // the id's value opens right after the first name; the model's after the body's first name; the prompt
            // is the line's last string (only brackets follow its closing quote). A string's content never holds an
            // unescaped quote, so these searches cannot land inside the endpoint or the system message.
            byte[] head = "{\"custom_id\":\"".getBytes(StandardCharsets.US_ASCII);
            byte[] modelField = ",\"body\":{\"model\":\"".getBytes(StandardCharsets.US_ASCII);
            int modelAt = indexOf(empty, modelField) + modelField.length;
            int promptAt = empty.length - 1;
            while (promptAt > 0 && empty[promptAt] != '"') {
                promptAt--;
            }
            if (!startsWith(empty, head) || modelAt < modelField.length || promptAt <= modelAt
                    || empty[promptAt - 1] != '"') {
                return null;
            }
            return new PromptTemplate(empty, head.length, modelAt, promptAt);
        } catch (IOException e) {
            return null;
        }
    }

    private static int indexOf(byte[] a, byte[] part) {
        outer:
        for (int i = 0; i + part.length <= a.length; i++) {
            for (int j = 0; j < part.length; j++) {
                if (a[i + j] != part[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static boolean startsWith(byte[] a, byte[] prefix) {
        return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
    }

    /**
     * A prompt line's fixed bytes (the generator's line with empty strings) and the three places where values go.
     */
    private record PromptTemplate(byte[] bytes, int idAt, int modelAt, int promptAt) {

        /** The line, or null when a value needs escaping or is not ASCII (the generator then writes it). */
        byte[] fill(String customId, String model, String prompt) {
            byte[] b = new byte[bytes.length + customId.length() + model.length() + prompt.length()];
            System.arraycopy(bytes, 0, b, 0, idAt);
            int o = copyPlain(customId, b, idAt);
            if (o < 0) {
                return null;
            }
            System.arraycopy(bytes, idAt, b, o, modelAt - idAt);
            o = copyPlain(model, b, o + modelAt - idAt);
            if (o < 0) {
                return null;
            }
            System.arraycopy(bytes, modelAt, b, o, promptAt - modelAt);
            o = copyPlain(prompt, b, o + promptAt - modelAt);
            if (o < 0) {
                return null;
            }
            System.arraycopy(bytes, promptAt, b, o, bytes.length - promptAt);
            return b;
        }

        /** Copies printable ASCII other than the quote and the backslash; -1 at the first other character. */
        private static int copyPlain(String s, byte[] b, int o) {
            for (int i = 0, n = s.length(); i < n; i++) {
                char c = s.charAt(i);
                if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                    return -1;
                }
                b[o++] = (byte) c;
            }
            return o;
        }
    }

    ObjectNode promptBody(String prompt, String model) {
        ObjectNode body = mapper.createObjectNode();
        if (model != null) {
            body.put("model", model);
        }
        switch (conf.getEndpoint()) {
            case "/v1/chat/completions" -> {
                ArrayNode messages = body.putArray("messages");
                if (conf.getSystemMessage() != null) {
                    messages.addObject().put("role", "system").put("content", conf.getSystemMessage());
                }
                messages.addObject().put("role", "user").put("content", prompt);
            }
            case "/v1/responses" -> {
                if (conf.getSystemMessage() != null) {
                    body.put("instructions", conf.getSystemMessage());
                }
                body.put("input", prompt);
            }
            case "/v1/completions" -> body.put("prompt", prompt);
            default -> body.put("input", prompt);
        }
        RequestLines.applyDefaults(body, defaults);
        return body;
    }

    private ObjectNode listBody(ArrayNode list, String model) {
        ObjectNode body = mapper.createObjectNode();
        if (model != null) {
            body.put("model", model);
        }
        boolean messages = list.size() > 0 && list.get(0).isObject() && list.get(0).has("role");
        String endpoint = conf.getEndpoint();
        if (messages && "/v1/chat/completions".equals(endpoint)) {
            ArrayNode m = body.putArray("messages");
            boolean hasSystem = false;
            for (JsonNode n : list) {
                hasSystem |= "system".equals(n.path("role").asText()) || "developer".equals(n.path("role").asText());
            }
            if (conf.getSystemMessage() != null && !hasSystem) {
                m.addObject().put("role", "system").put("content", conf.getSystemMessage());
            }
            m.addAll(list);
        } else if ("/v1/responses".equals(endpoint)) {
            if (conf.getSystemMessage() != null) {
                body.put("instructions", conf.getSystemMessage());
            }
            body.set("input", list);
        } else if (!messages && ("/v1/embeddings".equals(endpoint) || "/v1/moderations".equals(endpoint))) {
            body.set("input", list);
        } else if (!messages && "/v1/completions".equals(endpoint)) {
            body.set("prompt", list);
        } else {
            throw new InvalidRequestException("body", "a list body must be chat messages (objects with a role) for "
                                                      + "/v1/chat/completions, or inputs for embeddings, moderations"
                                                      + " and completions; endpoint is " + endpoint);
        }
        RequestLines.applyDefaults(body, defaults);
        return body;
    }

    /** The endpoint as written into request lines and batches (differs from the option only for classic Azure). */
    public String wireEndpoint() {
        return wireEndpoint;
    }

    private void normalizeUrl(ObjectNode line) {
        JsonNode url = line.get("url");
        if (url != null && !wireEndpoint.equals(conf.getEndpoint()) && conf.getEndpoint().equals(url.asText())) {
            line.put("url", wireEndpoint);
        }
    }

    private static void fillModel(ObjectNode body, String model) {
        if (model != null && !body.hasNonNull("model")) {
            body.put("model", model);
        }
    }

    private int estimate(JsonNode body) {
        return estimator != null ? estimator.estimate(body) : 0;
    }

    /** A validated request and the model that groups it. */
    public record Converted(String model, SpoolRecord record) {
    }

    /**
     * A new custom id, {@code req-} and a version-4 UUID. Its bits come from {@link ThreadLocalRandom} mixed with 64
     * bits drawn once per JVM from {@link SecureRandom}: ids need to be unique, not unguessable, and
     * {@link UUID#randomUUID()} takes a lock and a {@code SecureRandom} round per call (a tenth of the producer's time
     * for requests without an id of their own).
     */
    static String newId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long msb = (random.nextLong() ^ JVM_BITS) & ~0xF000L | 0x4000L;
        long lsb = random.nextLong() & 0x3FFFFFFFFFFFFFFFL | 0x8000000000000000L;
        return "req-" + new UUID(msb, lsb);
    }

    private static final long JVM_BITS = new SecureRandom().nextLong();
}
