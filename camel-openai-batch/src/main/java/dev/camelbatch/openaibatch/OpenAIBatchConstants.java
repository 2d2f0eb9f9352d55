package dev.camelbatch.openaibatch;

import org.apache.camel.spi.Metadata;

/** Headers and exchange properties of the openai-batch component. */
public final class OpenAIBatchConstants {

    @Metadata(description = "The request's custom_id. On the producer: taken when set, else from the request line,"
                            + " else generated; set on return. On the consumer: the custom_id of the output line.",
              javaType = "String")
    public static final String CUSTOM_ID = "CamelOpenAIBatchCustomId";

    @Metadata(label = "producer", description = "Set to true to seal the open segments of this endpoint name after"
                                                + " this exchange, so that they are submitted without waiting for a"
                                                + " count, size or time trigger.",
              javaType = "Boolean")
    public static final String FLUSH = "CamelOpenAIBatchFlush";

    @Metadata(label = "producer", description = "Overrides the model of this request.", javaType = "String")
    public static final String MODEL = "CamelOpenAIBatchModel";

    @Metadata(label = "producer", description = "The number of requests spooled from this exchange (1, or the lines"
                                                + " of a JSONL document).",
              javaType = "Integer")
    public static final String REQUEST_COUNT = "CamelOpenAIBatchRequestCount";

    @Metadata(description = "The id of the segment (the batch to be) that holds the request.", javaType = "String")
    public static final String SEGMENT_ID = "CamelOpenAIBatchSegmentId";

    @Metadata(label = "consumer", description = "The id of the batch the line came from.", javaType = "String")
    public static final String BATCH_ID = "CamelOpenAIBatchBatchId";

    @Metadata(label = "consumer", description = "The status of the batch the line came from (completed, expired,"
                                                + " cancelled, failed).",
              javaType = "String")
    public static final String BATCH_STATUS = "CamelOpenAIBatchBatchStatus";

    @Metadata(label = "consumer", description = "The id of the request line in the output file (batch_req_...).",
              javaType = "String")
    public static final String LINE_REQUEST_ID = "CamelOpenAIBatchOutputLineId";

    @Metadata(label = "consumer", description = "The request id of the API call (response.request_id).",
              javaType = "String")
    public static final String REQUEST_ID = "CamelOpenAIBatchRequestId";

    @Metadata(label = "consumer", description = "The HTTP status code of the request (response.status_code); absent"
                                                + " for failures without an HTTP response.",
              javaType = "Integer")
    public static final String STATUS_CODE = "CamelOpenAIBatchStatusCode";

    @Metadata(label = "consumer", description = "The model that served the request.", javaType = "String")
    public static final String RESPONSE_MODEL = "CamelOpenAIBatchResponseModel";

    @Metadata(label = "consumer", description = "The batch endpoint, e.g. /v1/chat/completions.", javaType = "String")
    public static final String ENDPOINT = "CamelOpenAIBatchEndpoint";

    @Metadata(label = "consumer", description = "True when the line reports a failed request.", javaType = "Boolean")
    public static final String IS_ERROR = "CamelOpenAIBatchIsError";

    @Metadata(label = "consumer", description = "The error code of a failed request (e.g. batch_expired,"
                                                + " batch_cancelled, request_timeout, invalid_request_error).",
              javaType = "String")
    public static final String ERROR_CODE = "CamelOpenAIBatchErrorCode";

    @Metadata(label = "consumer", description = "The error message of a failed request.", javaType = "String")
    public static final String ERROR_MESSAGE = "CamelOpenAIBatchErrorMessage";

    @Metadata(label = "consumer", description = "Prompt (input) tokens of the request; the responses endpoint's"
                                                + " input_tokens are mapped here.",
              javaType = "Long")
    public static final String PROMPT_TOKENS = "CamelOpenAIBatchPromptTokens";

    @Metadata(label = "consumer", description = "Completion (output) tokens of the request; the responses"
                                                + " endpoint's output_tokens are mapped here.",
              javaType = "Long")
    public static final String COMPLETION_TOKENS = "CamelOpenAIBatchCompletionTokens";

    @Metadata(label = "consumer", description = "Total tokens of the request.", javaType = "Long")
    public static final String TOTAL_TOKENS = "CamelOpenAIBatchTotalTokens";

    @Metadata(label = "consumer", description = "Cached prompt tokens of the request.", javaType = "Long")
    public static final String CACHED_TOKENS = "CamelOpenAIBatchCachedTokens";

    @Metadata(label = "consumer", description = "Reasoning tokens of the request.", javaType = "Long")
    public static final String REASONING_TOKENS = "CamelOpenAIBatchReasoningTokens";

    @Metadata(label = "consumer", description = "The attempt that produced this line (1 for the first submission).",
              javaType = "Integer")
    public static final String ATTEMPT = "CamelOpenAIBatchAttempt";

    @Metadata(label = "consumer", description = "A stable id of the line, batchId:customId, for idempotent consumers.",
              javaType = "String")
    public static final String LINE_ID = "CamelOpenAIBatchLineId";

    @Metadata(label = "consumer", description = "On batch event exchanges (batchEvents=true): the event type"
                                                + " (SUBMITTED, PROGRESS, COMPLETED, EXPIRED, FAILED, CANCELLED, STUCK,"
                                                + " RESUBMITTED, DONE).",
              javaType = "String")
    public static final String EVENT_TYPE = "CamelOpenAIBatchEventType";

    @Metadata(label = "consumer", description = "On batch event exchanges: requests completed so far.",
              javaType = "Integer")
    public static final String COMPLETED_COUNT = "CamelOpenAIBatchCompletedCount";

    @Metadata(label = "consumer", description = "On batch event exchanges: requests failed so far.",
              javaType = "Integer")
    public static final String FAILED_COUNT = "CamelOpenAIBatchFailedCount";

    @Metadata(label = "consumer", description = "On batch event exchanges: requests in the batch.",
              javaType = "Integer")
    public static final String TOTAL_COUNT = "CamelOpenAIBatchTotalCount";

    private OpenAIBatchConstants() {
    }
}
