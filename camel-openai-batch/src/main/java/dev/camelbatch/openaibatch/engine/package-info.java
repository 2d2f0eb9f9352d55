/**
 * The engine, free of Camel: {@link BatchEngine} schedules; its parts each own one step of a segment's way from sealed
 * requests to emitted lines ({@link Submissions} and the one submission pipeline {@link Submitter}, {@link Poller},
 * {@link FailurePolicy}, {@link Downloads}, {@link Emitter}, {@link Cleanup}), and talk to the batch service only
 * through the {@link BatchProvider} seam ({@link OpenAIProvider} for OpenAI and Azure).
 * <p>
 * Beneath it, and never importing it: the durable spool and the segment model ({@code engine.store}, with the file and
 * JDBC stores in {@code engine.store.file} and {@code engine.store.jdbc}), JSONL lines ({@code engine.lines}), tokens
 * and prices ({@code engine.usage}) and private files ({@code engine.io}). docs/architecture.md shows how the pieces
 * fit.
 */
package dev.camelbatch.openaibatch.engine;
