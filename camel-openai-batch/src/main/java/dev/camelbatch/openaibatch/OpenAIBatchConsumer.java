package dev.camelbatch.openaibatch;


import dev.camelbatch.openaibatch.consumer.LineExchanges;
import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.engine.BatchEvent;
import dev.camelbatch.openaibatch.engine.EmittedLine;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchConsumerHealthCheck;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.Message;
import org.apache.camel.Processor;
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
    private LineExchanges lines;

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
        runtime = endpoint.acquireRuntime();
        lines = new LineExchanges(runtime.mapper(),
                endpoint.getCamelContext().getCamelContextExtension().getHeadersMapFactory());
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
            lines.populate(exchange, line, endpoint.getConfiguration().getOutputFormat());
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
