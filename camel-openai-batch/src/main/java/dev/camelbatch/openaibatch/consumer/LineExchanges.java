package dev.camelbatch.openaibatch.consumer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.OutputFormat;
import dev.camelbatch.openaibatch.engine.EmittedLine;
import dev.camelbatch.openaibatch.engine.lines.OutputLine;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.producer.RequestConverter;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.Message;
import org.apache.camel.spi.HeadersMapFactory;

/**
 * The exchange of one emitted line: the request's carried headers, then the line's own headers
 * ({@link OpenAIBatchConstants}), Camel's batch properties (index, size, complete) and the body in the endpoint's
 * {@link OutputFormat}: the useful content of the response (text, embedding vector, moderation result), the response
 * body as JSON text or a map, or the raw line. Read from the line's single streaming parse wherever it can be.
 */
public final class LineExchanges {

    private final ObjectMapper mapper;
    private final HeadersMapFactory headersMapFactory;

    public LineExchanges(ObjectMapper mapper, HeadersMapFactory headersMapFactory) {
        this.mapper = mapper;
        this.headersMapFactory = headersMapFactory;
    }

    /** Fills the exchange of a line: headers, Camel's batch properties and the body in the given format. */
    public void populate(Exchange exchange, EmittedLine line, OutputFormat format) throws Exception {
        Message msg = exchange.getMessage();
        SegmentInfo s = line.segment();
        // headers are collected as pairs and go into Camel's case-insensitive map only when the route needs more than
        // reading a few of them (see LineHeaders); a name given twice (a carried header named like one of ours) ends
        // with the later value, ours
        LineHeaders h = new LineHeaders();
        if (line.carriedHeaders() != null) {
            RequestConverter.restoreHeaders(mapper, line.carriedHeaders(), h);
        }
        h.put(OpenAIBatchConstants.CUSTOM_ID, line.customId());
        h.put(OpenAIBatchConstants.BATCH_ID, s.getBatchId());
        h.put(OpenAIBatchConstants.BATCH_STATUS, s.getBatchStatus());
        h.put(OpenAIBatchConstants.SEGMENT_ID, s.getId());
        h.put(OpenAIBatchConstants.ENDPOINT, s.getEndpoint());
        h.put(OpenAIBatchConstants.ATTEMPT, s.getAttempt());
        h.put(OpenAIBatchConstants.LINE_ID, s.getBatchId() + ":" + line.customId());
        h.put(OpenAIBatchConstants.IS_ERROR, line.isError());
        if (line.statusCode() != null) {
            h.put(OpenAIBatchConstants.STATUS_CODE, line.statusCode());
        }
        if (line.isError()) {
            h.put(OpenAIBatchConstants.ERROR_CODE, line.errorCode());
            h.put(OpenAIBatchConstants.ERROR_MESSAGE, line.errorMessage());
        }
        exchange.setProperty(ExchangePropertyKey.BATCH_INDEX, (int) line.index());
        exchange.setProperty(ExchangePropertyKey.BATCH_SIZE, (int) line.size());
        exchange.setProperty(ExchangePropertyKey.BATCH_COMPLETE, line.isLast());

        OutputLine out = line.line();
        boolean object = out != null && out.isObject();
        if (object) {
            if (out.id() != null) {
                h.put(OpenAIBatchConstants.LINE_REQUEST_ID, out.id());
            }
            if (out.requestId() != null) {
                h.put(OpenAIBatchConstants.REQUEST_ID, out.requestId());
            }
            if (out.bodyIsObject()) {
                if (out.model() != null) {
                    h.put(OpenAIBatchConstants.RESPONSE_MODEL, out.model());
                }
                if (out.hasUsage()) {
                    putIfPresent(h, OpenAIBatchConstants.PROMPT_TOKENS, out.promptTokens());
                    putIfPresent(h, OpenAIBatchConstants.COMPLETION_TOKENS, out.completionTokens());
                    putIfPresent(h, OpenAIBatchConstants.TOTAL_TOKENS, out.totalTokens());
                    putIfPresent(h, OpenAIBatchConstants.CACHED_TOKENS, out.cachedTokens());
                    putIfPresent(h, OpenAIBatchConstants.REASONING_TOKENS, out.reasoningTokens());
                }
            }
        }
        h.seal();
        // taken as it is by Camel's default header map factory; another factory copies it
        msg.setHeaders(headersMapFactory.isInstanceOf(h) ? h : headersMapFactory.newMap(h));
        if (!object || format == OutputFormat.raw) {
            msg.setBody(new String(line.raw(), StandardCharsets.UTF_8));
        } else if (line.isError() && !out.hasBody()) {
            // no response body: the error line itself says what happened
            msg.setBody(format == OutputFormat.map ? mapper.convertValue(out.tree(), Map.class)
                    : new String(line.raw(), StandardCharsets.UTF_8));
        } else if (format == OutputFormat.json) {
            msg.setBody(out.bodyJson());
        } else if (format == OutputFormat.map) {
            JsonNode body = out.body();
            msg.setBody(body == null ? null : mapper.convertValue(body, Map.class));
        } else if (line.isError()) {
            msg.setBody(out.bodyJson());
        } else {
            msg.setBody(content(s.getEndpoint(), out, mapper));
        }
    }

    private static void putIfPresent(Map<String, Object> h, String name, Long value) {
        if (value != null) {
            h.put(name, value);
        }
    }

    /** The useful content of a line's response body, read from the streaming parse where it can be. */
    public static Object content(String endpoint, OutputLine out, ObjectMapper mapper) throws IOException {
        if (!out.hasBody()) {
            return null;
        }
        String ep = endpoint.startsWith("/v1/") ? endpoint : "/v1" + endpoint;
        if (out.bodyIsObject()) {
            if ("/v1/chat/completions".equals(ep)) {
                return out.chatContent();
            }
            if ("/v1/completions".equals(ep)) {
                return out.completionText();
            }
            if ("/v1/responses".equals(ep) && out.outputText() != null) {
                return out.outputText();
            }
        }
        return content(endpoint, out.body(), mapper);
    }

    /** The useful content of a response body. */
    public static Object content(String endpoint, JsonNode body, ObjectMapper mapper) {
        if (body == null || body.isNull()) {
            return null;
        }
        // classic Azure names endpoints without /v1
        switch (endpoint.startsWith("/v1/") ? endpoint : "/v1" + endpoint) {
            case "/v1/chat/completions": {
                JsonNode c = body.path("choices").path(0).path("message").path("content");
                return c.isMissingNode() || c.isNull() ? null : c.asText();
            }
            case "/v1/completions": {
                JsonNode c = body.path("choices").path(0).path("text");
                return c.isMissingNode() || c.isNull() ? null : c.asText();
            }
            case "/v1/responses": {
                if (body.hasNonNull("output_text")) {
                    return body.get("output_text").asText();
                }
                StringBuilder sb = new StringBuilder();
                for (JsonNode item : body.path("output")) {
                    if ("message".equals(item.path("type").asText())) {
                        for (JsonNode part : item.path("content")) {
                            if ("output_text".equals(part.path("type").asText())) {
                                sb.append(part.path("text").asText());
                            }
                        }
                    }
                }
                return sb.toString();
            }
            case "/v1/embeddings": {
                JsonNode data = body.path("data");
                if (data.size() == 1) {
                    return toFloats(data.get(0).path("embedding"));
                }
                List<List<Double>> all = new ArrayList<>();
                for (JsonNode d : data) {
                    all.add(toFloats(d.path("embedding")));
                }
                return all;
            }
            case "/v1/moderations": {
                JsonNode results = body.path("results");
                return mapper.convertValue(results.size() == 1 ? results.get(0) : results, Object.class);
            }
            default:
                return body.toString();
        }
    }

    private static List<Double> toFloats(JsonNode arr) {
        List<Double> v = new ArrayList<>(arr.size());
        for (JsonNode n : arr) {
            v.add(n.asDouble());
        }
        return v;
    }
}
