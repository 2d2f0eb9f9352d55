package dev.camelbatch.openaibatch;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.lines.LineReader;
import dev.camelbatch.openaibatch.engine.lines.TokenEstimator;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.producer.OpenAIBatchOperations;
import dev.camelbatch.openaibatch.producer.RequestConverter;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.support.DefaultProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spools one request per exchange (or every line of a JSONL document) into the store; returns once the requests are
 * durable per the sync policy.
 */
public class OpenAIBatchProducer extends DefaultProducer {

    /**
     * Exchange property (suffixed with the endpoint name) holding the custom id generated for a request whose append
     * failed: a redelivery of the exchange uses it again, so that a request stored by a try that then failed is not
     * spooled a second time under a new id.
     */
    static final String PENDING_CUSTOM_ID = "CamelOpenAIBatchPendingCustomId.";

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchProducer.class);

    private String pendingKey;

    private final OpenAIBatchEndpoint endpoint;
    private OpenAIBatchRuntime runtime;
    private RequestConverter converter;
    private SegmentLimits limits;
    private OpenAIBatchOperations operations;

    public OpenAIBatchProducer(OpenAIBatchEndpoint endpoint) {
        super(endpoint);
        this.endpoint = endpoint;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        OpenAIBatchConfiguration conf = endpoint.getConfiguration();
        limits = new SegmentLimits(conf.getMaxRequestsPerBatch(), conf.getMaxBatchBytes(), conf.getMaxBatchTokens(),
                conf.getBatchTimeout());
        TokenEstimator estimator = conf.getMaxBatchTokens() > 0 || conf.getMaxEnqueuedTokens() > 0
                ? new TokenEstimator(conf.getTokenEncoding()) : null;
        runtime = endpoint.acquireRuntime();
        pendingKey = PENDING_CUSTOM_ID + endpoint.getName();
        converter = new RequestConverter(conf, runtime.mapper(), estimator);
        operations = new OpenAIBatchOperations(endpoint, runtime, this::isRunAllowed);
    }

    @Override
    protected void doStop() throws Exception {
        if (runtime != null) {
            runtime.release();
            runtime = null;
        }
        super.doStop();
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        OpenAIBatchConfiguration conf = endpoint.getConfiguration();
        OpenAIBatchOperation operation = OpenAIBatchOperations.operation(exchange, conf);
        if (operation != OpenAIBatchOperation.spool) {
            operations.process(operation, exchange);
            return;
        }
        if (exchange.getMessage().getBody() == null && flushHeader(exchange)) {
            // a flush on its own (e.g. from a timer route): seals the open segments, spools nothing
            exchange.getMessage().setHeader(OpenAIBatchConstants.REQUEST_COUNT, 0);
            if (!runtime.store().sealOpen(s -> true, SealReason.FLUSH).isEmpty()) {
                runtime.wakeUp();
            }
            return;
        }
        String model = exchange.getMessage().getHeader(OpenAIBatchConstants.MODEL, String.class);
        if (model == null) {
            model = conf.getModel();
        }
        Object customIdHeader = exchange.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID);
        if (customIdHeader != null && !(customIdHeader instanceof CharSequence)) {
            throw new InvalidRequestException("header." + OpenAIBatchConstants.CUSTOM_ID, "header "
                                              + OpenAIBatchConstants.CUSTOM_ID + " must be a String, was "
                                              + customIdHeader.getClass().getName());
        }
        String customId = customIdHeader != null ? customIdHeader.toString() : null;
        if (customId != null && customId.isEmpty()) {
            throw new InvalidRequestException("header." + OpenAIBatchConstants.CUSTOM_ID,
                    "header " + OpenAIBatchConstants.CUSTOM_ID + " is empty");
        }
        // every header is checked before anything is stored
        boolean flushRequested = flushHeader(exchange);
        byte[] carried = converter.carriedHeaders(exchange);
        Object body = exchange.getMessage().getBody();
        boolean document = RequestConverter.isDocument(body);
        List<String> sealed;
        int count;
        if (document) {
            DocumentResult r = spoolDocument(exchange, body, model, carried, conf.isFlushOnDocumentEnd()
                    || flushRequested);
            sealed = r.sealed;
            count = r.count;
        } else {
            String pending = customId == null ? exchange.getProperty(pendingKey, String.class) : null;
            if (pending != null && runtime.store().containsCustomId(pending)) {
                // an earlier try of this exchange stored the request, then failed (Camel redelivers the message as
                // it was before that try, without the header): it is spooled, once
                exchange.removeProperty(pendingKey);
                exchange.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, pending);
                sealed = List.of();
            } else {
                RequestConverter.Converted c = converter.single(exchange, model,
                        pending != null ? pending : customId, carried);
                String id = c.record().customId();
                try {
                    sealed = runtime.store().append(converter.wireEndpoint(), c.model(), List.of(c.record()), limits);
                } catch (Exception e) {
                    if (customId == null) {
                        // the request may be stored although the append failed: a redelivery uses this id again
                        // (the exchange's properties outlive a redelivery, its message does not)
                        exchange.setProperty(pendingKey, id);
                    }
                    throw e;
                }
                if (pending != null) {
                    exchange.removeProperty(pendingKey);
                }
                if (customIdHeader != id) {
                    // generated, or given as another CharSequence (a given String is already the header's value)
                    exchange.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, id);
                }
            }
            count = 1;
        }
        exchange.getMessage().setHeader(OpenAIBatchConstants.REQUEST_COUNT, count);
        boolean flush = flushRequested
                        || (conf.isFlushOnSplitComplete()
                            && Boolean.TRUE.equals(exchange.getProperty(ExchangePropertyKey.SPLIT_COMPLETE)));
        if (flush) {
            sealed = new ArrayList<>(sealed);
            sealed.addAll(runtime.store().sealOpen(s -> true, SealReason.FLUSH));
        }
        if (!sealed.isEmpty()) {
            runtime.wakeUp();
        }
    }

    private static boolean flushHeader(Exchange exchange) {
        Object v = exchange.getMessage().getHeader(OpenAIBatchConstants.FLUSH);
        if (v == null || v instanceof Boolean) {
            return Boolean.TRUE.equals(v);
        }
        String s = v.toString().trim();
        if ("true".equalsIgnoreCase(s) || "false".equalsIgnoreCase(s)) {
            return Boolean.parseBoolean(s);
        }
        throw new InvalidRequestException("header." + OpenAIBatchConstants.FLUSH, "header "
                                          + OpenAIBatchConstants.FLUSH + " must be a boolean, was "
                                          + v.getClass().getSimpleName() + " '" + s + "'");
    }

    private record DocumentResult(int count, List<String> sealed) {
    }

    /**
     * Spools every line of a JSONL document, read as a stream, into segments of its own that become visible only
     * when the whole document is valid: one bad line refuses the document with its line number and nothing of it
     * stays in the store (nor after a crash in the middle).
     */
    private DocumentResult spoolDocument(Exchange exchange, Object body, String model, byte[] carried, boolean seal)
            throws Exception {
        int count = 0;
        try (InputStream in = RequestConverter.openDocument(exchange, body);
             BatchStore.DocumentAppender doc = runtime.store().beginDocument(converter.wireEndpoint(),
                     limits)) {
            LineReader reader = new LineReader(in, 1 << 16, limits.maxBytes());
            while (true) {
                byte[] raw;
                try {
                    raw = reader.next();
                } catch (LineReader.LineTooLongException e) {
                    throw new InvalidRequestException("line", e.getLineNumber(), "longer than the batch byte limit"
                                                                                 + " of " + limits.maxBytes()
                                                                                 + " bytes");
                }
                if (raw == null) {
                    break;
                }
                long lineNo = reader.lineNumber();
                RequestConverter.Converted c = converter.documentLine(raw, lineNo, model, carried);
                try {
                    doc.add(c.model(), c.record(), lineNo);
                } catch (DuplicateCustomIdException e) {
                    // a store that checks in chunks (JDBC) may find the duplicate of an earlier line only now
                    throw new InvalidRequestException("custom_id", e.getLineNumber() > 0 ? e.getLineNumber() : lineNo,
                            e.getMessage());
                }
                count++;
            }
            if (count == 0) {
                throw new InvalidRequestException("body", "the JSONL document has no request lines");
            }
            try {
                return new DocumentResult(count, doc.commit(seal));
            } catch (DuplicateCustomIdException e) {
                throw new InvalidRequestException("custom_id", e.getLineNumber(), e.getMessage());
            }
        }
    }

}
