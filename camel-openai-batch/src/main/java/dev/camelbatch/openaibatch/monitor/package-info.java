/**
 * What an endpoint name has done, for people and tools: counters ({@link OpenAIBatchMonitor}), health checks,
 * Micrometer meters, the JMX usage bean, the dev console, and usage and estimated cost per batch ({@link UsageWatch},
 * priced by {@link OpenAIBatchPrices}). Error codes used as meter tags are folded into a bounded set ({@link
 * LineCodes}). Nothing here shows a secret.
 */
package dev.camelbatch.openaibatch.monitor;
