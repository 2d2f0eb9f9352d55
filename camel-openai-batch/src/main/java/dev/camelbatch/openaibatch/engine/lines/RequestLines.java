package dev.camelbatch.openaibatch.engine.lines;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Validation and canonical serialisation of batch request lines ({@code custom_id, method, url, body}), with the
 * rules of the OpenAI Batch API applied before anything is stored.
 */
public final class RequestLines {

    public static final Set<String> ENDPOINTS = Set.of("/v1/responses", "/v1/chat/completions", "/v1/embeddings",
            "/v1/completions", "/v1/moderations");
    public static final int MAX_EMBEDDING_INPUTS = 50_000;
    public static final int MAX_CUSTOM_ID_LENGTH = 512;
    /** The longest model name a store keeps (the JDBC store's model column), for every store alike. */
    public static final int MAX_MODEL_LENGTH = 256;

    private RequestLines() {
    }

    public static void checkEndpoint(String endpoint) {
        if (!ENDPOINTS.contains(endpoint)) {
            throw new InvalidRequestException("endpoint", "endpoint '" + endpoint + "' is not a batch endpoint; allowed: "
                                                          + String.join(", ", new java.util.TreeSet<>(ENDPOINTS)));
        }
    }

    /**
     * Validates a request line (already parsed) for the given batch endpoint and returns it serialised in canonical
     * field order ({@code custom_id} first), without a newline.
     */
    public static byte[] validateAndSerialize(ObjectMapper mapper, JsonNode line, String endpoint, long maxBytes)
            throws IOException {
        if (line == null || !line.isObject()) {
            throw new InvalidRequestException("line", "a request line must be a JSON object with custom_id, method, url"
                                                      + " and body");
        }
        JsonNode cid = line.get("custom_id");
        if (cid == null || cid.isNull()) {
            throw new InvalidRequestException("custom_id", "custom_id is missing");
        }
        if (!cid.isTextual() || cid.asText().isEmpty()) {
            throw new InvalidRequestException("custom_id", "custom_id must be a non-empty string, was " + cid);
        }
        checkCustomId(cid.asText());
        JsonNode method = line.get("method");
        if (method == null || !"POST".equals(method.asText())) {
            throw new InvalidRequestException("method", "method must be POST, was " + method);
        }
        JsonNode url = line.get("url");
        if (url == null || !url.isTextual()) {
            throw new InvalidRequestException("url", "url is missing");
        }
        if (!endpoint.equals(url.asText())) {
            throw new InvalidRequestException("url", "url '" + url.asText() + "' differs from the batch endpoint '"
                                                     + endpoint + "'; one batch serves one endpoint");
        }
        JsonNode body = line.get("body");
        if (body == null || !body.isObject()) {
            throw new InvalidRequestException("body", "body must be a JSON object, was "
                                                      + (body == null ? "missing" : body.getNodeType()));
        }
        validateBody((ObjectNode) body, endpoint);
        byte[] bytes = serialize(mapper, cid.asText(), endpoint, body);
        if (bytes.length + 1 > maxBytes) {
            throw new InvalidRequestException("body", "the request line is " + bytes.length
                                                      + " bytes, over the batch byte limit of " + maxBytes + " bytes");
        }
        return bytes;
    }

    public static void checkCustomId(String customId) {
        if (customId.length() > MAX_CUSTOM_ID_LENGTH) {
            throw new InvalidRequestException("custom_id", "custom_id is " + customId.length()
                                                           + " characters, over the limit of " + MAX_CUSTOM_ID_LENGTH);
        }
    }

    /** Refuses a model name longer than the stores keep ({@value #MAX_MODEL_LENGTH} characters). */
    public static void checkModel(String model) {
        if (model.length() > MAX_MODEL_LENGTH) {
            throw new InvalidRequestException("body.model", "model is " + model.length()
                                                            + " characters, over the limit of " + MAX_MODEL_LENGTH);
        }
    }

    /** Rules that the service would apply to the body of one request. */
    public static void validateBody(ObjectNode body, String endpoint) {
        JsonNode model = body.get("model");
        if (model == null || model.isNull() || !model.isTextual() || model.asText().isBlank()) {
            throw new InvalidRequestException("body.model", "model is missing: set the endpoint option 'model' or a"
                                                            + " 'model' field in the body");
        }
        checkModel(model.asText());
        JsonNode stream = body.get("stream");
        if (stream != null && stream.asBoolean(false)) {
            throw new InvalidRequestException("body.stream", "stream: true is not supported by the Batch API");
        }
        String required = endpoint.endsWith("/chat/completions") ? "messages"
                : endpoint.endsWith("/completions") ? "prompt" : "input";
        JsonNode req = body.get(required);
        if (req == null || req.isNull()) {
            throw new InvalidRequestException("body." + required, "a request to " + endpoint + " needs '" + required
                                                                  + "'");
        }
        if ("messages".equals(required) && (!req.isArray() || req.isEmpty())) {
            throw new InvalidRequestException("body.messages", "messages must be a non-empty array, was "
                                                               + req.getNodeType());
        }
        if (endpoint.endsWith("/embeddings")) {
            JsonNode input = body.get("input");
            if (input == null || input.isNull()) {
                throw new InvalidRequestException("body.input", "an embeddings request needs 'input'");
            }
            if (input.isArray() && input.size() > MAX_EMBEDDING_INPUTS) {
                throw new InvalidRequestException("body.input", "an embeddings request has " + input.size()
                                                                + " inputs, over the limit of " + MAX_EMBEDDING_INPUTS);
            }
        }
    }

    public static byte[] serialize(ObjectMapper mapper, String customId, String endpoint, JsonNode body)
            throws IOException {
        // canonical order, custom_id first; written field by field (no second tree for the line)
        ByteArrayBuilder out = new ByteArrayBuilder(256 + (body.size() << 6));
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            writeLineHead(g, customId, endpoint);
            mapper.writeTree(g, body);
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    /**
     * Opens a request line and writes its fields up to the body's name, in the canonical order (custom id first);
     * the caller writes the body and closes the line.
     */
    public static void writeLineHead(JsonGenerator g, String customId, String endpoint) throws IOException {
        g.writeStartObject();
        g.writeStringField("custom_id", customId);
        g.writeStringField("method", "POST");
        g.writeStringField("url", endpoint);
        g.writeFieldName("body");
    }

    /** The custom id of a stored request line; fast when it is the first field, as this component writes it. */
    public static String customId(ObjectMapper mapper, byte[] line) {
        return customId(mapper, line, line.length);
    }

    /**
     * The custom id of the first {@code len} bytes of {@code line}. Lines that start with {@code {"custom_id":"...}
     * (request lines) or {@code {"id":"...","custom_id":"...} (output and error lines, as OpenAI writes them) are
     * read without a parser; anything else goes through the streaming parser. {@code ""} when there is none.
     */
    public static String customId(ObjectMapper mapper, byte[] line, int len) {
        return customId(mapper, line, 0, len);
    }

    /**
     * The custom id of the {@code len} bytes of {@code line} from {@code off}; see
     * {@link #customId(ObjectMapper, byte[], int)}.
     */
    public static String customId(ObjectMapper mapper, byte[] line, int off, int len) {
        long range = customIdRange(line, off, len);
        if (range >= 0) {
            int start = (int) (range >>> 32);
            return new String(line, start, (int) range - start, StandardCharsets.UTF_8);
        }
        try (JsonParser p = mapper.getFactory().createParser(line, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return "";
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                p.nextToken();
                if ("custom_id".equals(f)) {
                    return p.getText();
                }
                p.skipChildren();
            }
        } catch (IOException e) {
            return "";
        }
        return "";
    }

    /**
     * {@link CustomIdSet#hash(String)} of the custom id of {@code line[off, off + len)}, read as
     * {@link #customId(ObjectMapper, byte[], int, int)} reads it but hashed from the bytes when it can be (no string);
     * {@link CustomIdSet#EMPTY} when there is no id.
     */
    public static long customIdHash(ObjectMapper mapper, byte[] line, int off, int len) {
        long range = customIdRange(line, off, len);
        if (range >= 0) {
            int start = (int) (range >>> 32);
            return CustomIdSet.hash(line, start, (int) range - start);
        }
        return CustomIdSet.hash(customId(mapper, line, off, len));
    }

    /**
     * Where the custom id of a line lies when the line starts the way request lines ({@code {"custom_id":"...}) and
     * OpenAI's output lines ({@code {"id":"...","custom_id":"...}) do and the id has no escape: {@code start << 32 |
     * end} (end exclusive); -1 when the line must go through a parser.
     */
    static long customIdRange(byte[] line, int off, int len) {
        int limit = off + len;
        int at = -1;
        if (startsWith(line, limit, off, PREFIX)) {
            at = off + PREFIX.length;
        } else if (startsWith(line, limit, off, ID_PREFIX)) {
            int end = plainStringEnd(line, limit, off + ID_PREFIX.length);
            if (end > 0 && startsWith(line, limit, end + 1, NEXT_CUSTOM_ID)) {
                at = end + 1 + NEXT_CUSTOM_ID.length;
            }
        }
        if (at > 0) {
            int end = plainStringEnd(line, limit, at);
            if (end > 0) {
                return ((long) at << 32) | end;
            }
        }
        return -1;
    }

    private static boolean startsWith(byte[] b, int limit, int from, byte[] prefix) {
        if (from + prefix.length > limit) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** The index of the quote that closes a string starting at {@code from}, or -1 if it has an escape. */
    private static int plainStringEnd(byte[] b, int limit, int from) {
        for (int i = from; i < limit; i++) {
            if (b[i] == '\\') {
                return -1;
            }
            if (b[i] == '"') {
                return i;
            }
        }
        return -1;
    }

    private static final byte[] ID_PREFIX = "{\"id\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NEXT_CUSTOM_ID = ",\"custom_id\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PREFIX = "{\"custom_id\":\"".getBytes(StandardCharsets.US_ASCII);

    /** Applies defaults to a body: fields absent from the body are copied from the defaults. */
    public static void applyDefaults(ObjectNode body, Map<String, JsonNode> defaults) {
        if (defaults == null) {
            return;
        }
        for (Map.Entry<String, JsonNode> e : defaults.entrySet()) {
            if (!body.has(e.getKey())) {
                body.set(e.getKey(), e.getValue().deepCopy());
            }
        }
    }

    /** The text of a body that costs input tokens, for estimates. */
    public static void forEachText(JsonNode node, java.util.function.Consumer<String> consumer) {
        if (node == null) {
            return;
        }
        if (node.isTextual()) {
            consumer.accept(node.asText());
        } else if (node.isContainerNode()) {
            Iterator<JsonNode> it = node.elements();
            while (it.hasNext()) {
                forEachText(it.next(), consumer);
            }
        }
    }
}
