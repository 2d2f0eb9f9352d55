/**
 * What the consumer makes of each emitted line: its exchange ({@link LineExchanges}: carried and line headers, Camel's
 * batch properties, the body in the endpoint's output format) and its headers ({@link LineHeaders}, a lazily filled
 * header map). The consumer itself, {@code OpenAIBatchConsumer}, is in the Camel face.
 */
package dev.camelbatch.openaibatch.consumer;
