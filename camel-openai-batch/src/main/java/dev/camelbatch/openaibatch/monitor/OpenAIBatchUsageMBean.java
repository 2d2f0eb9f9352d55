package dev.camelbatch.openaibatch.monitor;

/**
 * JMX view of the usage totals and batch progress of one endpoint name (registered while its consumer runs, as
 * {@code org.apache.camel:context=NAME,type=openai-batch,name="ENDPOINT NAME"}).
 */
public interface OpenAIBatchUsageMBean {

    String getEndpointName();

    long getBatches();

    long getBatchesWithUnknownCost();

    long getPromptTokens();

    long getCachedTokens();

    long getCompletionTokens();

    long getReasoningTokens();

    long getTotalTokens();

    /** Estimated cost in US dollars of the batches whose model has a price. */
    double getEstimatedCost();

    /** When the prices of the table were taken. */
    String getPriceTableDate();

    /** One line per batch in flight: id, status, counts, percentage, rate, ETA. */
    String[] getBatchProgress();

    /** Starts the running totals again from zero. */
    void resetTotals();
}
