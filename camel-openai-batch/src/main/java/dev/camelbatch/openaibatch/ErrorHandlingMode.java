package dev.camelbatch.openaibatch;

/** How a failed request (an error line) reaches the consumer's route. */
public enum ErrorHandlingMode {
    /** As a normal exchange with {@code CamelOpenAIBatchIsError=true} and the error headers. */
    headers,
    /** As a failed exchange ({@link OpenAIBatchRequestFailedException}) for the route's error handler or dead letter channel. */
    exception
}
