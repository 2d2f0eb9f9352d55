package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.databind.JsonNode;
import dev.camelbatch.openaibatch.engine.lines.OutputLine;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;

/**
 * One line of a finished batch, ready to become an exchange.
 *
 * @param kind           where it came from
 * @param segment        the segment (batch) it belongs to
 * @param customId       the request's custom id (may be {@code null} for an unparsable line)
 * @param raw            the raw line (UTF-8 JSON, or the unparsable text)
 * @param line           the line as read by the streaming parser ({@link OutputLine#isObject()} false when it is not
 *                       a JSON object)
 * @param statusCode     HTTP status of the request, or {@code null} for non-HTTP failures
 * @param errorCode      error code for a failed request (from {@code error.code}, or the body's error), else null
 * @param errorMessage   error message for a failed request, else null
 * @param carriedHeaders the carried headers of the request as a JSON object, or {@code null}
 * @param index          0-based index of this line among the lines emitted for the batch
 * @param size           number of lines that the batch emits
 */
public record EmittedLine(Kind kind, SegmentInfo segment, String customId, byte[] raw, OutputLine line,
        Integer statusCode, String errorCode, String errorMessage, byte[] carriedHeaders, long index, long size) {

    public enum Kind {
        /** A line of the output file (a request that succeeded). */
        RESULT,
        /** A line of the error file (a request that failed). */
        ERROR,
        /** A request that the component reports as failed itself (failed batch, exhausted attempts, bad line). */
        SYNTHETIC_ERROR
    }

    /** The whole line as a tree (built on first use), or {@code null} when it is not a JSON object. */
    public JsonNode parsed() {
        try {
            return line.tree();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean isError() {
        return kind != Kind.RESULT;
    }

    public boolean isLast() {
        return index == size - 1;
    }
}
