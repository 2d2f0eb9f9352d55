/**
 * Files the engine writes: created private to the user that runs it ({@code 0700} directories, {@code 0600} files where
 * the file system has POSIX permissions), and bounded reads. The lowest layer of the engine.
 */
package dev.camelbatch.openaibatch.engine.io;
