package dev.camelbatch.openaibatch.engine.lines;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.usage.TokenUsage;

/**
 * One line of a batch output or error file, read with Jackson's streaming parser: the fields that every line needs
 * (ids, status, model, usage, error, the chat or completion text) are picked out in one pass and everything else is
 * skipped without being decoded. The full tree ({@link #tree()}) and the response body as JSON text
 * ({@link #bodyJson()}) are only built when asked for. This is what keeps emission close to the speed of reading the
 * file. It is long because that one pass is written out field by field for both line shapes (output and error).
 */
public final class OutputLine {

    private static final long ABSENT = Long.MIN_VALUE;

    // Field names in the order OpenAI writes them, object by object. The parser is told the name it should meet next
    // (JsonParser.nextFieldName(SerializableString)): when the line has it there, it is matched by its bytes, without
    // decoding it or looking it up; any other name is read as usual. The result is the same either way.
    private static final SerializedString[] LINE = names("id", "custom_id", "response", "error");
    private static final SerializedString[] RESPONSE = names("status_code", "request_id", "body");
    private static final SerializedString[] BODY = names("id", "object", "created", "model", "choices", "usage",
            "service_tier", "system_fingerprint");
    private static final SerializedString[] CHOICE = names("index", "message", "logprobs", "finish_reason");
    private static final SerializedString[] MESSAGE = names("role", "content", "refusal", "annotations");
    private static final SerializedString[] USAGE = names("prompt_tokens", "completion_tokens", "total_tokens",
            "prompt_tokens_details", "completion_tokens_details");
    private static final SerializedString[] PROMPT_DETAILS = names("cached_tokens", "audio_tokens");
    private static final SerializedString[] COMPLETION_DETAILS = names("reasoning_tokens", "audio_tokens",
            "accepted_prediction_tokens", "rejected_prediction_tokens");

    private final byte[] raw;
    private final ObjectMapper mapper;
    private JsonNode tree;

    private boolean object;
    private String parseError;
    private String id;
    private String customId;
    private Integer statusCode;
    private String requestId;
    private boolean hasResponse;
    /** The body's byte range in {@link #raw}, when it is an object; {@code bodyStart < 0} otherwise. */
    private int bodyStart = -1;
    private int bodyEnd = -1;
    /** The body's kind: null when absent, else the JSON token it starts with. */
    private JsonToken bodyToken;
    private String model;
    private boolean usage;
    private long promptTokens = ABSENT;
    private long inputTokens = ABSENT;
    private long completionTokens = ABSENT;
    private long outputTokens = ABSENT;
    private long totalTokens = ABSENT;
    private long promptCached = ABSENT;
    private long inputCached = ABSENT;
    private long completionReasoning = ABSENT;
    private long outputReasoning = ABSENT;
    /** Whether the usage names chat-style counts at all (whatever their values), as the tree-based reading decided. */
    private boolean chatUsage;
    private boolean promptDetails;
    private boolean completionDetails;
    private String chatContent;
    private String completionText;
    private String outputText;
    private String bodyErrorCode;
    private String bodyErrorType;
    private String bodyErrorMessage;
    private boolean lineError;
    private String lineErrorCode;
    private String lineErrorMessage;

    private OutputLine(byte[] raw, ObjectMapper mapper) {
        this.raw = raw;
        this.mapper = mapper;
    }

    /** Reads a line; never throws: a line that is not a JSON object has {@link #parseError()} set. */
    public static OutputLine parse(byte[] raw, ObjectMapper mapper) {
        OutputLine l = new OutputLine(raw, mapper);
        try (JsonParser p = mapper.getFactory().createParser(raw)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                l.parseError = "not a JSON object";
            } else {
                l.readLine(p);
                l.object = true;
            }
        } catch (IOException e) {
            l.object = false;
            l.statusCode = null;
            l.lineError = false;
            l.bodyToken = null;
            l.parseError = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            String text = new String(raw, StandardCharsets.UTF_8);
            int i = text.indexOf("\"custom_id\":\"");
            if (i >= 0) {
                int j = text.indexOf('"', i + 13);
                l.customId = j > i ? text.substring(i + 13, j) : null;
            } else {
                l.customId = null;
            }
        }
        return l;
    }

    /** A line built by the component itself (a request it reports as failed). */
    public static OutputLine of(JsonNode tree, byte[] raw, ObjectMapper mapper) {
        OutputLine l = parse(raw, mapper);
        l.tree = tree;
        return l;
    }

    private void readLine(JsonParser p) throws IOException {
        JsonToken t;
        String f;
        int k = 0;
        while ((f = nextName(p, LINE, k)) != null) {
            k = after(LINE, f, k);
            t = p.nextToken();
            switch (f) {
                case "id" -> id = t == JsonToken.VALUE_STRING ? p.getText() : skip(p);
                case "custom_id" -> customId = t == JsonToken.VALUE_STRING ? p.getText() : skip(p);
                case "response" -> {
                    if (t == JsonToken.START_OBJECT) {
                        hasResponse = true;
                        readResponse(p);
                    } else {
                        p.skipChildren();
                    }
                }
                case "error" -> {
                    if (t == JsonToken.START_OBJECT) {
                        lineError = true;
                        lineErrorCode = null;
                        lineErrorMessage = null;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String g = p.currentName();
                            JsonToken v = p.nextToken();
                            if ("code".equals(g)) {
                                lineErrorCode = scalar(p, v);
                            } else if ("message".equals(g)) {
                                lineErrorMessage = scalar(p, v);
                            } else {
                                p.skipChildren();
                            }
                        }
                    } else {
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
        t = p.currentToken();
        if (t != JsonToken.END_OBJECT) {
            throw new JsonProcessingException("unexpected " + t + " in the line's object") {
            };
        }
    }

    private void readResponse(JsonParser p) throws IOException {
        String f;
        int k = 0;
        while ((f = nextName(p, RESPONSE, k)) != null) {
            k = after(RESPONSE, f, k);
            JsonToken t = p.nextToken();
            switch (f) {
                case "status_code" -> statusCode = status(p, t);
                case "request_id" -> requestId = scalar(p, t);
                case "body" -> {
                    bodyToken = t;
                    if (t == JsonToken.START_OBJECT) {
                        bodyStart = (int) p.currentTokenLocation().getByteOffset();
                        readBody(p);
                        bodyEnd = (int) p.currentLocation().getByteOffset();
                    } else {
                        bodyStart = -1;
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
    }

    private void readBody(JsonParser p) throws IOException {
        String f;
        int k = 0;
        while ((f = nextName(p, BODY, k)) != null) {
            k = after(BODY, f, k);
            JsonToken t = p.nextToken();
            switch (f) {
                case "model" -> model = t == JsonToken.VALUE_NULL ? null : scalar(p, t);
                case "usage" -> {
                    if (t == JsonToken.START_OBJECT) {
                        usage = true;
                        readUsage(p);
                    } else {
                        p.skipChildren();
                    }
                }
                case "choices" -> {
                    if (t == JsonToken.START_ARRAY) {
                        readChoices(p);
                    } else {
                        p.skipChildren();
                    }
                }
                case "output_text" -> outputText = t == JsonToken.VALUE_NULL ? null : scalar(p, t);
                case "error" -> {
                    if (t == JsonToken.START_OBJECT) {
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String g = p.currentName();
                            JsonToken v = p.nextToken();
                            switch (g) {
                                case "code" -> bodyErrorCode = v == JsonToken.VALUE_NULL ? null : scalar(p, v);
                                case "type" -> bodyErrorType = v == JsonToken.VALUE_NULL ? null : scalar(p, v);
                                case "message" -> bodyErrorMessage = v == JsonToken.VALUE_NULL ? null : scalar(p, v);
                                default -> p.skipChildren();
                            }
                        }
                    } else {
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
    }

    private void readChoices(JsonParser p) throws IOException {
        boolean first = true;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (first && t == JsonToken.START_OBJECT) {
                String f;
                int k = 0;
                while ((f = nextName(p, CHOICE, k)) != null) {
                    k = after(CHOICE, f, k);
                    JsonToken v = p.nextToken();
                    if ("message".equals(f) && v == JsonToken.START_OBJECT) {
                        String g;
                        int m = 0;
                        while ((g = nextName(p, MESSAGE, m)) != null) {
                            m = after(MESSAGE, g, m);
                            JsonToken w = p.nextToken();
                            if ("content".equals(g) && w == JsonToken.VALUE_STRING) {
                                chatContent = p.getText();
                            } else {
                                p.skipChildren();
                            }
                        }
                    } else if ("text".equals(f) && v == JsonToken.VALUE_STRING) {
                        completionText = p.getText();
                    } else {
                        p.skipChildren();
                    }
                }
            } else {
                p.skipChildren();
            }
            first = false;
        }
    }

    private void readUsage(JsonParser p) throws IOException {
        String f;
        int k = 0;
        while ((f = nextName(p, USAGE, k)) != null) {
            k = after(USAGE, f, k);
            JsonToken t = p.nextToken();
            switch (f) {
                case "prompt_tokens" -> {
                    chatUsage = true;
                    promptTokens = number(p, t);
                }
                case "input_tokens" -> inputTokens = number(p, t);
                case "completion_tokens" -> {
                    chatUsage = true;
                    completionTokens = number(p, t);
                }
                case "output_tokens" -> outputTokens = number(p, t);
                case "total_tokens" -> totalTokens = number(p, t);
                case "prompt_tokens_details" -> {
                    promptDetails = true;
                    promptCached = detail(p, t, PROMPT_DETAILS);
                }
                case "input_tokens_details" -> inputCached = detail(p, t, PROMPT_DETAILS);
                case "completion_tokens_details" -> {
                    completionDetails = true;
                    completionReasoning = detail(p, t, COMPLETION_DETAILS);
                }
                case "output_tokens_details" -> outputReasoning = detail(p, t, COMPLETION_DETAILS);
                default -> p.skipChildren();
            }
        }
    }

    /** An HTTP status as the tree-based reading took it ({@code canConvertToInt()}, then {@code asInt()}). */
    private static Integer status(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_INT) {
            return p.getNumberType() == JsonParser.NumberType.INT ? p.getIntValue() : null;
        }
        if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            double d = p.getDoubleValue();
            return d >= Integer.MIN_VALUE && d <= Integer.MAX_VALUE ? (int) d : null;
        }
        p.skipChildren();
        return null;
    }

    /** The count named first in {@code order} ({@code cached_tokens} or {@code reasoning_tokens}) of a details object. */
    private static long detail(JsonParser p, JsonToken t, SerializedString[] order) throws IOException {
        if (t != JsonToken.START_OBJECT) {
            p.skipChildren();
            return ABSENT;
        }
        String name = order[0].getValue();
        long v = ABSENT;
        String f;
        int k = 0;
        while ((f = nextName(p, order, k)) != null) {
            k = after(order, f, k);
            JsonToken w = p.nextToken();
            if (name.equals(f)) {
                v = number(p, w);
            } else {
                p.skipChildren();
            }
        }
        return v;
    }

    private static long number(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_INT) {
            // a count beyond a long is left out, as a tree's canConvertToLong() would
            return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? ABSENT : p.getLongValue();
        }
        if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            double d = p.getDoubleValue();
            return d >= Long.MIN_VALUE && d <= Long.MAX_VALUE ? (long) d : ABSENT;
        }
        p.skipChildren();
        return ABSENT;
    }

    /** The text of a scalar (numbers and booleans as text); null for null, objects and arrays. */
    private static String scalar(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
            p.skipChildren();
            return null;
        }
        return t == JsonToken.VALUE_NULL ? null : p.getText();
    }

    private static SerializedString[] names(String... names) {
        SerializedString[] s = new SerializedString[names.length];
        for (int i = 0; i < names.length; i++) {
            s[i] = new SerializedString(names[i]);
        }
        return s;
    }

    /**
     * Advances to the next field name of the current object and returns it, or null at the object's end (the parser
     * then stands on the token that ended it). {@code order[k]} is the name expected there.
     */
    private static String nextName(JsonParser p, SerializedString[] order, int k) throws IOException {
        if (k < order.length) {
            if (p.nextFieldName(order[k])) {
                return order[k].getValue();
            }
            return p.currentToken() == JsonToken.FIELD_NAME ? p.currentName() : null;
        }
        return p.nextToken() == JsonToken.FIELD_NAME ? p.currentName() : null;
    }

    /** Where the name expected after {@code name} stands in {@code order} ({@code k + 1} when it was the expected one). */
    private static int after(SerializedString[] order, String name, int k) {
        if (k < order.length && order[k].getValue() == name) {
            return k + 1;
        }
        for (int i = 0; i < order.length; i++) {
            if (order[i].getValue().equals(name)) {
                return i + 1;
            }
        }
        return k;
    }

    private static String skip(JsonParser p) throws IOException {
        p.skipChildren();
        return null;
    }

    // ------------------------------------------------------------------------------------------------- accessors

    /** Whether the line is a JSON object (false: {@link #parseError()} says why). */
    public boolean isObject() {
        return object;
    }

    public String parseError() {
        return parseError;
    }

    public byte[] raw() {
        return raw;
    }

    /** The line's {@code id} (the batch request id). */
    public String id() {
        return id;
    }

    public String customId() {
        return customId;
    }

    /** {@code response.status_code}, or null. */
    public Integer statusCode() {
        return statusCode;
    }

    /** {@code response.request_id}, or null. */
    public String requestId() {
        return requestId;
    }

    /** Whether {@code response.body} is there and not null. */
    public boolean hasBody() {
        return bodyToken != null && bodyToken != JsonToken.VALUE_NULL;
    }

    /** Whether {@code response.body} is a JSON object. */
    public boolean bodyIsObject() {
        return bodyToken == JsonToken.START_OBJECT;
    }

    /** {@code response.body.model}, or null. */
    public String model() {
        return model;
    }

    /** {@code response.body.choices[0].message.content} when it is a string. */
    public String chatContent() {
        return chatContent;
    }

    /** {@code response.body.choices[0].text} when it is a string. */
    public String completionText() {
        return completionText;
    }

    /** {@code response.body.output_text} (responses), or null. */
    public String outputText() {
        return outputText;
    }

    /** The error code of a failed request: the line's {@code error}, else the body's error of an HTTP error. */
    public String errorCode() {
        if (lineError) {
            return lineErrorCode != null ? lineErrorCode : "error";
        }
        if (statusCode != null && statusCode >= 400) {
            return bodyErrorCode != null ? bodyErrorCode
                    : bodyErrorType != null ? bodyErrorType : "http_" + statusCode;
        }
        return null;
    }

    public String errorMessage() {
        if (lineError) {
            return lineErrorMessage;
        }
        if (statusCode != null && statusCode >= 400) {
            return bodyErrorMessage != null ? bodyErrorMessage : "HTTP " + statusCode;
        }
        return null;
    }

    /** Whether the body has a usage object. */
    public boolean hasUsage() {
        return usage;
    }

    /** {@code prompt_tokens} (chat, completions, embeddings) or {@code input_tokens} (responses), or null. */
    public Long promptTokens() {
        return box(promptTokens != ABSENT ? promptTokens : inputTokens);
    }

    /** {@code completion_tokens} or {@code output_tokens}, or null. */
    public Long completionTokens() {
        return box(completionTokens != ABSENT ? completionTokens : outputTokens);
    }

    public Long totalTokens() {
        return box(totalTokens);
    }

    public Long cachedTokens() {
        return box(promptDetails ? promptCached : inputCached);
    }

    public Long reasoningTokens() {
        return box(completionDetails ? completionReasoning : outputReasoning);
    }

    /** The usage of the line's response, or {@code null} when it has none. */
    public TokenUsage usage() {
        if (!usage) {
            return null;
        }
        boolean chat = chatUsage;
        return new TokenUsage(nz(chat ? promptTokens : inputTokens), nz(chat ? promptCached : inputCached),
                nz(chat ? completionTokens : outputTokens), nz(chat ? completionReasoning : outputReasoning));
    }

    /** The response body as JSON text, copied from the line when it is an object; null when there is no body. */
    public String bodyJson() throws IOException {
        if (bodyStart >= 0 && bodyEnd > bodyStart && tree == null) {
            return new String(raw, bodyStart, bodyEnd - bodyStart, StandardCharsets.UTF_8);
        }
        JsonNode b = body();
        return b == null || b.isNull() ? null : mapper.writeValueAsString(b);
    }

    /** The response body as a tree, or null. */
    public JsonNode body() throws IOException {
        if (!object) {
            return null;
        }
        if (bodyStart >= 0 && bodyEnd > bodyStart && tree == null) {
            return mapper.readTree(raw, bodyStart, bodyEnd - bodyStart);
        }
        JsonNode t = tree();
        JsonNode resp = t == null ? null : t.get("response");
        return resp != null && resp.isObject() ? resp.get("body") : null;
    }

    /** The whole line as a tree (parsed on first use), or null when it is not a JSON object. */
    public JsonNode tree() throws IOException {
        if (!object) {
            return null;
        }
        if (tree == null) {
            tree = mapper.readTree(raw);
        }
        return tree;
    }

    private static Long box(long v) {
        return v == ABSENT ? null : v;
    }

    private static long nz(long v) {
        return v == ABSENT ? 0 : v;
    }
}
