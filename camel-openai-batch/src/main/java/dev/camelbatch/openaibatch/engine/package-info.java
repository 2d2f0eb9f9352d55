/**
 * The engine, free of Camel: the durable spool ({@link dev.camelbatch.openaibatch.engine.BatchStore} and its file and
 * JDBC stores), the one owner of a segment's status ({@link dev.camelbatch.openaibatch.engine.SegmentLifecycle}), and
 * the engine that drives segments to batches and back to lines ({@link dev.camelbatch.openaibatch.engine.BatchEngine}
 * and its parts), talking to the batch service through the
 * {@link dev.camelbatch.openaibatch.engine.BatchProvider} seam. docs/architecture.md shows how the pieces fit.
 */
package dev.camelbatch.openaibatch.engine;
