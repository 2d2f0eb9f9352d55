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

    @Metadata(label = "producer", description = "The model of this request when its body names none; takes"
                                                + " precedence over the model option.",
              javaType = "String")
    public static final String MODEL = "CamelOpenAIBatchModel";

    @Metadata(label = "producer", description = "The number of requests spooled from this exchange (1, or the lines"
                                                + " of a JSONL document).",
              javaType = "Integer")
    public static final String REQUEST_COUNT = "CamelOpenAIBatchRequestCount";

    @Metadata(description = "The id of the segment (the batch to be) that holds the request.", javaType = "String")
    public static final String SEGMENT_ID = "CamelOpenAIBatchSegmentId";

    @Metadata(description = "The id of the batch. Consumer: the batch the line came from. Producer: the batch that"
                            + " retrieve, wait, cancel, results and deleteFiles act on (required), and the batch"
                            + " created by submit (the first one when there are several).",
              javaType = "String")
    public static final String BATCH_ID = "CamelOpenAIBatchBatchId";

    @Metadata(description = "The status of the batch (validating, in_progress, finalizing, completed, expired,"
                            + " cancelling, cancelled, failed): of the batch a line came from, or of the batch an"
                            + " operation returned.",
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

    @Metadata(description = "Prompt (input) tokens of the request (the responses endpoint's input_tokens are mapped"
                            + " here); on batch events and retrieve/wait: of the whole batch.",
              javaType = "Long")
    public static final String PROMPT_TOKENS = "CamelOpenAIBatchPromptTokens";

    @Metadata(description = "Completion (output) tokens of the request, reasoning included (the responses"
                            + " endpoint's output_tokens are mapped here); on batch events and retrieve/wait: of the"
                            + " whole batch.",
              javaType = "Long")
    public static final String COMPLETION_TOKENS = "CamelOpenAIBatchCompletionTokens";

    @Metadata(description = "Total tokens of the request (or of the batch).", javaType = "Long")
    public static final String TOTAL_TOKENS = "CamelOpenAIBatchTotalTokens";

    @Metadata(description = "Cached prompt tokens of the request (or of the batch); part of the prompt tokens.",
              javaType = "Long")
    public static final String CACHED_TOKENS = "CamelOpenAIBatchCachedTokens";

    @Metadata(description = "Reasoning tokens of the request (or of the batch); part of the completion tokens.",
              javaType = "Long")
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

    @Metadata(description = "On batch event exchanges and retrieve/wait/cancel: requests completed so far.",
              javaType = "Integer")
    public static final String COMPLETED_COUNT = "CamelOpenAIBatchCompletedCount";

    @Metadata(description = "On batch event exchanges and retrieve/wait/cancel: requests failed so far.",
              javaType = "Integer")
    public static final String FAILED_COUNT = "CamelOpenAIBatchFailedCount";

    @Metadata(description = "On batch event exchanges and retrieve/wait/cancel: requests in the batch.",
              javaType = "Integer")
    public static final String TOTAL_COUNT = "CamelOpenAIBatchTotalCount";

    @Metadata(label = "producer", description = "Overrides the endpoint option operation for this exchange: spool,"
                                                + " submit, retrieve, wait, cancel, list, results, deleteFiles, flush.",
              javaType = "String")
    public static final String OPERATION = "CamelOpenAIBatchOperation";

    @Metadata(label = "producer", description = "submit: overrides the endpoint option track.", javaType = "Boolean")
    public static final String TRACK = "CamelOpenAIBatchTrack";

    @Metadata(label = "producer", description = "wait: overrides the endpoint option waitTimeout (milliseconds).",
              javaType = "Long")
    public static final String WAIT_TIMEOUT = "CamelOpenAIBatchWaitTimeout";

    @Metadata(label = "producer", description = "wait: true when the timeout passed before the batch reached a"
                                                + " terminal status (the body is the batch as last seen).",
              javaType = "Boolean")
    public static final String TIMED_OUT = "CamelOpenAIBatchTimedOut";

    @Metadata(label = "producer", description = "results: overrides the endpoint option resultsFile (output or"
                                                + " error).",
              javaType = "String")
    public static final String RESULTS_FILE = "CamelOpenAIBatchResultsFile";

    @Metadata(label = "producer", description = "list: overrides the endpoint option listStatus (comma-separated"
                                                + " statuses).",
              javaType = "String")
    public static final String LIST_STATUS = "CamelOpenAIBatchListStatus";

    @Metadata(label = "producer", description = "list: overrides the endpoint option limit.", javaType = "Integer")
    public static final String LIMIT = "CamelOpenAIBatchLimit";

    @Metadata(label = "producer", description = "submit: the ids of the batches created; list: the ids listed.",
              javaType = "java.util.List<String>")
    public static final String BATCH_IDS = "CamelOpenAIBatchBatchIds";

    @Metadata(label = "producer", description = "submit and list: the number of batches in the body.",
              javaType = "Integer")
    public static final String BATCH_COUNT = "CamelOpenAIBatchBatchCount";

    @Metadata(label = "producer", description = "The input file id of the batch.", javaType = "String")
    public static final String INPUT_FILE_ID = "CamelOpenAIBatchInputFileId";

    @Metadata(label = "producer", description = "The output file id of the batch (absent while it has none).",
              javaType = "String")
    public static final String OUTPUT_FILE_ID = "CamelOpenAIBatchOutputFileId";

    @Metadata(label = "producer", description = "The error file id of the batch (absent while it has none).",
              javaType = "String")
    public static final String ERROR_FILE_ID = "CamelOpenAIBatchErrorFileId";

    @Metadata(label = "producer", description = "results: the id of the file in the body (absent when the batch has"
                                                + " no such file: the body is then empty). deleteFiles: the ids"
                                                + " deleted are the body.",
              javaType = "String")
    public static final String RESULTS_FILE_ID = "CamelOpenAIBatchResultsFileId";

    @Metadata(description = "The estimated cost of the batch in US dollars, from its usage and the price table"
                            + " (batch prices); absent when the model has no price. On batch events (COMPLETED,"
                            + " EXPIRED, CANCELLED, DONE) and retrieve/wait.",
              javaType = "java.math.BigDecimal")
    public static final String ESTIMATED_COST = "CamelOpenAIBatchEstimatedCost";

    @Metadata(description = "The model the cost was estimated for (the requested model, or the served one when only"
                            + " that has a price).",
              javaType = "String")
    public static final String COST_MODEL = "CamelOpenAIBatchCostModel";

    @Metadata(label = "consumer", description = "On batch events: where the batch's token totals come from: batch"
                                                + " (batch.usage reported by the API) or lines (summed from the"
                                                + " usage of the lines delivered).",
              javaType = "String")
    public static final String USAGE_SOURCE = "CamelOpenAIBatchUsageSource";

    @Metadata(description = "On batch events and retrieve/wait: the share of the batch's requests finished, in"
                            + " percent (one decimal).",
              javaType = "Double")
    public static final String PROGRESS_PERCENT = "CamelOpenAIBatchProgressPercent";

    @Metadata(description = "On batch events and wait: requests finished per second, as observed; absent before it"
                            + " can be measured.",
              javaType = "Double")
    public static final String PROGRESS_RATE = "CamelOpenAIBatchProgressRate";

    @Metadata(description = "On batch events and wait: the estimated seconds until the batch's requests are"
                            + " finished, from the observed rate; absent when unknown, 0 once finished.",
              javaType = "Long")
    public static final String ETA = "CamelOpenAIBatchEta";

    private OpenAIBatchConstants() {
    }
}
