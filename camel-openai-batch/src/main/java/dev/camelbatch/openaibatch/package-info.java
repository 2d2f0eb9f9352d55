/**
 * The Camel face of the component: {@code openai-batch:NAME} (component, endpoint, configuration, header constants),
 * its producer (spool, or an explicit operation) and consumer (one exchange per result line), and its monitoring
 * (health checks, Micrometer metrics, JMX, the dev console, usage and cost). It wires the engine
 * ({@link dev.camelbatch.openaibatch.engine}) to Camel: threads from Camel's {@code ExecutorServiceManager}, lines to
 * the route, events to the monitors.
 */
package dev.camelbatch.openaibatch;
