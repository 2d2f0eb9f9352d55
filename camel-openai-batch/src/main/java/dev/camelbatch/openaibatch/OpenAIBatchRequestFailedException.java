package dev.camelbatch.openaibatch;

import org.apache.camel.CamelExchangeException;
import org.apache.camel.Exchange;

/** A request of a batch failed (an error line), delivered with {@code errorHandling=exception}. */
public class OpenAIBatchRequestFailedException extends CamelExchangeException {

    private final String customId;
    private final String errorCode;
    private final Integer statusCode;

    public OpenAIBatchRequestFailedException(String customId, Integer statusCode, String errorCode, String message,
                                             Exchange exchange) {
        super("Request " + customId + " failed" + (statusCode != null ? " with HTTP " + statusCode : "") + " ("
              + errorCode + "): " + message, exchange);
        this.customId = customId;
        this.errorCode = errorCode;
        this.statusCode = statusCode;
    }

    public String getCustomId() {
        return customId;
    }

    public String getErrorCode() {
        return errorCode;
    }

    public Integer getStatusCode() {
        return statusCode;
    }
}
