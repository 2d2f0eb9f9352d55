/**
 * JSONL lines, streamed and never held whole: request lines and their custom ids ({@link RequestLines}, {@link
 * LineIdScanner}), output and error lines read in one pass ({@link OutputLine}, {@link ParsedLineReader}), the sort of
 * a batch's lines into request order on disk ({@link InputOrderSorter}), token estimates of a request line, and the
 * compact sets of custom ids the engine and the stores keep.
 */
package dev.camelbatch.openaibatch.engine.lines;
