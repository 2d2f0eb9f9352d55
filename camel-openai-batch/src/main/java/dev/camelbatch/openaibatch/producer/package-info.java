/**
 * What the producer does with an exchange: {@link RequestConverter} turns a body (text, a request object, a JSONL
 * document) into request lines for the spool; the explicit operations ({@code operation=submit}, {@code status}, {@code
 * results}, {@code cancel}, ...) are {@link OpenAIBatchOperations}, with the tracked submit in {@link SubmitOperation}
 * (which goes through the engine's one submission pipeline).
 */
package dev.camelbatch.openaibatch.producer;
