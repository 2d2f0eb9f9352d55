package dev.camelbatch.openaibatch;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.engine.BatchEvent;
import dev.camelbatch.openaibatch.engine.EmittedLine;
import dev.camelbatch.openaibatch.engine.OutputLine;
import dev.camelbatch.openaibatch.engine.SegmentInfo;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.spi.HeadersMapFactory;
import org.apache.camel.support.DefaultConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the batch engine of its endpoint name and turns every line of a finished batch into an exchange. A line
 * counts as delivered only when its exchange completes without an exception; otherwise emission of that batch stops
 * and the same line is delivered again at the next engine cycle (after {@code pollInterval}), from the checkpoint.
 */
public class OpenAIBatchConsumer extends DefaultConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchConsumer.class);

    private final OpenAIBatchEndpoint endpoint;
    private OpenAIBatchRuntime runtime;
    private BatchEngine engine;
    private HeadersMapFactory headersMapFactory;

    public OpenAIBatchConsumer(OpenAIBatchEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
        this.endpoint = endpoint;
    }

    @Override
    public OpenAIBatchEndpoint getEndpoint() {
        return endpoint;
    }

    /** The engine driving this consumer's batches (for tests, JMX and the dev console). */
    public BatchEngine getEngine() {
        return engine;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        headersMapFactory = endpoint.getCamelContext().getCamelContextExtension().getHeadersMapFactory();
        runtime = endpoint.acquireRuntime();
        try {
            engine = runtime.startEngine(endpoint.getConfiguration(), endpoint.getCamelContext(), this::deliver,
                    this::onEvent);
        } catch (Exception e) {
            runtime.release();
            runtime = null;
            throw e;
        }
    }

    @Override
    protected void doStop() throws Exception {
        if (getHealthCheck() instanceof OpenAIBatchConsumerHealthCheck check) {
            // the check's own API client lives as long as the consumer runs
            check.closeClient();
        }
        if (runtime != null) {
            runtime.stopEngine();
            runtime.release();
            runtime = null;
            engine = null;
        }
        super.doStop();
    }

    boolean deliver(EmittedLine line) {
        if (!isRunAllowed()) {
            // the consumer is stopping: a new exchange would wait for a shutdown that waits for the engine; the line
            // is delivered at the next start, from the checkpoint
            return false;
        }
        Exchange exchange = createExchange(false);
        OpenAIBatchRequestFailedException failure = null;
        try {
            populate(exchange, line);
            if (line.isError() && endpoint.getConfiguration().getErrorHandling() == ErrorHandlingMode.exception) {
                failure = new OpenAIBatchRequestFailedException(line.customId(), line.statusCode(), line.errorCode(),
                        line.errorMessage(), exchange);
                exchange.setException(failure);
                // let the route's error handler (e.g. a dead letter channel) take it, as Camel's bridge error
                // handler does
                exchange.setProperty(ExchangePropertyKey.ERRORHANDLER_BRIDGE, true);
            }
            getProcessor().process(exchange);
        } catch (Exception e) {
            exchange.setException(e);
        }
        Exception e = exchange.getException();
        try {
            if (e == null || (failure != null && e == failure)) {
                if (e != null) {
                    LOG.debug("Request {} failed and was not handled by the route's error handler: {}",
                            line.customId(), e.getMessage());
                }
                return true;
            }
            getExceptionHandler().handleException("Processing line " + line.customId() + " of batch "
                                                  + line.segment().getBatchId()
                                                  + " failed; it will be delivered again",
                    exchange, e);
            return false;
        } finally {
            releaseExchange(exchange, false);
        }
    }

    private void populate(Exchange exchange, EmittedLine line) throws Exception {
        ObjectMapper mapper = runtime.mapper();
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
        OutputFormat format = endpoint.getConfiguration().getOutputFormat();
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
    static Object content(String endpoint, OutputLine out, ObjectMapper mapper) throws java.io.IOException {
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
    static Object content(String endpoint, JsonNode body, ObjectMapper mapper) {
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

    void onEvent(BatchEvent event) {
        if (!endpoint.getConfiguration().isBatchEvents() || event.type() == BatchEvent.Type.SEALED
            || !isRunAllowed()) {
            return;
        }
        Exchange exchange = createExchange(false);
        try {
            Message msg = exchange.getMessage();
            SegmentInfo s = event.segment();
            msg.setHeader(OpenAIBatchConstants.EVENT_TYPE, event.type().name());
            if (s != null) {
                msg.setHeader(OpenAIBatchConstants.SEGMENT_ID, s.getId());
                msg.setHeader(OpenAIBatchConstants.BATCH_ID, s.getBatchId());
                msg.setHeader(OpenAIBatchConstants.BATCH_STATUS, s.getBatchStatus());
                msg.setHeader(OpenAIBatchConstants.COMPLETED_COUNT, s.getCompleted());
                msg.setHeader(OpenAIBatchConstants.FAILED_COUNT, s.getFailed());
                msg.setHeader(OpenAIBatchConstants.TOTAL_COUNT, s.getTotal());
                msg.setHeader(OpenAIBatchConstants.ATTEMPT, s.getAttempt());
                msg.setHeader(OpenAIBatchConstants.ENDPOINT, s.getEndpoint());
                if (s.getInputTokens() != null) {
                    msg.setHeader(OpenAIBatchConstants.PROMPT_TOKENS, s.getInputTokens());
                }
                if (s.getOutputTokens() != null) {
                    msg.setHeader(OpenAIBatchConstants.COMPLETION_TOKENS, s.getOutputTokens());
                }
            }
            // progress, usage totals and estimated cost of the batch
            OpenAIBatchRuntime.eventHeaders(runtime, event, msg);
            msg.setBody(event.batch() != null ? event.batch() : event.message());
            getProcessor().process(exchange);
            if (exchange.getException() != null) {
                getExceptionHandler().handleException("Processing a batch event failed", exchange,
                        exchange.getException());
            }
        } catch (Exception e) {
            getExceptionHandler().handleException("Processing a batch event failed", exchange, e);
        } finally {
            releaseExchange(exchange, false);
        }
    }
}
