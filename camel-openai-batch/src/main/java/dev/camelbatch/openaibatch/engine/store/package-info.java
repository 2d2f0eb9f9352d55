/**
 * The durable spool and the segment model, apart from how they are stored: the {@link BatchStore} contract, a segment's
 * state ({@link SegmentInfo}, {@link SegmentStatus}) and the one class that changes it ({@link SegmentLifecycle}, which
 * holds the transition table), why a segment was sealed ({@link SealReason}) and its cutting limits. The
 * implementations live in {@code engine.store.file} (embedded, one directory per name) and {@code engine.store.jdbc} (a
 * database shared by several nodes); this package knows neither.
 */
package dev.camelbatch.openaibatch.engine.store;
