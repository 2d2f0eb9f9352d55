package dev.camelbatch.examples.mq;

import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes of the example.
 * <ol>
 * <li>{@code requests}: each message of the JMS queue {@code requests} (its text is the prompt) is spooled as one
 * request, in a JMS transaction that commits only once the request is spooled. Its {@code JMSCorrelationID} and
 * {@code JMSMessageID} are carried; the JMS message id is also the request's {@code custom_id}, so a message
 * redelivered after a crash is recognised and not sent twice. A request the producer refuses (an empty body, say)
 * gets an error reply at once.</li>
 * <li>{@code results}: one exchange per result from the batch, sent to the queue {@code results} with the
 * {@code JMSCorrelationID} of the request (or, when it had none, its {@code JMSMessageID}, the usual JMS
 * request/reply convention) and a few properties: {@code openaiStatus} ({@code ok} or {@code error}),
 * {@code openaiErrorCode}, {@code openaiPromptTokens}, {@code openaiCompletionTokens}.</li>
 * </ol>
 */
public class MessageQueueRoutes extends RouteBuilder {

    static final Logger LOG = LoggerFactory.getLogger("message-queue");
    public static final String SYSTEM_MESSAGE = "Answer the customer's message in one short, friendly sentence.";

    private final MessageQueueSettings settings;

    public MessageQueueRoutes(MessageQueueSettings settings) {
        this.settings = settings;
    }

    @Override
    public void configure() {
        from("jms:queue:" + MessageQueueSettings.REQUESTS + "?transacted=true&disableReplyTo=true")
                .routeId("requests")
                .onException(DuplicateCustomIdException.class).handled(true).logExhausted(false)
                    .log(org.apache.camel.LoggingLevel.INFO, LOG.getName(),
                         "${header.JMSMessageID} was redelivered and is already spooled")
                .end()
                .onException(InvalidRequestException.class).handled(true).logExhausted(false)
                    .process(this::refusal)
                    .to("jms:queue:" + MessageQueueSettings.RESULTS)
                .end()
                .setHeader(OpenAIBatchConstants.CUSTOM_ID, header("JMSMessageID"))
                .to("openai-batch:mq?model=" + settings.model() + "&systemMessage=RAW(" + SYSTEM_MESSAGE + ")"
                    + "&carryHeaders=JMSCorrelationID,JMSMessageID");

        from("openai-batch:mq")
                .routeId("results")
                .process(this::reply)
                .to("jms:queue:" + MessageQueueSettings.RESULTS);
    }

    /** The reply's correlation id: the request's, else its message id. */
    static void correlate(Message m) {
        Object corr = m.getHeader("JMSCorrelationID");
        if (corr == null || corr.toString().isEmpty()) {
            m.setHeader("JMSCorrelationID", m.getHeader("JMSMessageID"));
        }
    }

    private void reply(Exchange exchange) {
        Message m = exchange.getMessage();
        correlate(m);
        boolean error = m.getHeader(OpenAIBatchConstants.IS_ERROR, false, Boolean.class);
        m.setHeader("openaiStatus", error ? "error" : "ok");
        if (error) {
            m.setHeader("openaiErrorCode", m.getHeader(OpenAIBatchConstants.ERROR_CODE, String.class));
        }
        m.setHeader("openaiPromptTokens", m.getHeader(OpenAIBatchConstants.PROMPT_TOKENS, Long.class));
        m.setHeader("openaiCompletionTokens", m.getHeader(OpenAIBatchConstants.COMPLETION_TOKENS, Long.class));
        if (m.getBody() == null) {
            m.setBody("");
        }
    }

    private void refusal(Exchange exchange) {
        Exception e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        Message m = exchange.getMessage();
        LOG.warn("Refused {}: {}", m.getHeader("JMSMessageID"), e.getMessage());
        correlate(m);
        m.removeHeader(OpenAIBatchConstants.CUSTOM_ID);
        m.setHeader("openaiStatus", "error");
        m.setHeader("openaiErrorCode", "invalid_request");
        m.setBody(e.getMessage());
    }
}
