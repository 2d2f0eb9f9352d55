/**
 * The embedded store: one directory per endpoint name with a memory-mapped append file per segment, a small state file
 * per segment, checkpoints and a history of finished batches ({@link FileBatchStore} and the classes it hands its
 * concerns to). Producers of one JVM share it; nodes may share the directory over a file system with working locks.
 */
package dev.camelbatch.openaibatch.engine.store.file;
