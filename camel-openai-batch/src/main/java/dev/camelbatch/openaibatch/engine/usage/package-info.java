/**
 * Tokens, prices and progress: {@link TokenUsage} (what a request, a batch or many batches used), the {@link
 * PriceTable} that turns it into an estimated cost, the running totals per model and the progress of each batch in
 * flight. Values and arithmetic only: nothing here reads a store or calls the API.
 */
package dev.camelbatch.openaibatch.engine.usage;
