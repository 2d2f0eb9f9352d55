package dev.camelbatch.openaibatch;

/** What the producer does with an exchange (endpoint option {@code operation}, header {@code CamelOpenAIBatchOperation}). */
public enum OpenAIBatchOperation {
    /** Spool the request(s) for the automatic pipeline (the default). */
    spool,
    /** Validate a JSONL document (or a list of requests) and submit it now as one or more batches. */
    submit,
    /** Get a batch by id. */
    retrieve,
    /** Poll a batch until it reaches a terminal status or a timeout. */
    wait,
    /** Cancel a batch. */
    cancel,
    /** List batches (of this endpoint name by default), every page. */
    list,
    /** The output (or error) file of a finished batch, streamed or as parsed lines. */
    results,
    /** Delete the input, output and error files of a finished batch. */
    deleteFiles,
    /** Seal the open segments of this endpoint name now. */
    flush
}
