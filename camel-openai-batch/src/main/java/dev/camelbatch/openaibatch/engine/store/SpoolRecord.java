package dev.camelbatch.openaibatch.engine.store;

/**
 * One validated request ready for the spool.
 *
 * @param customId       the request's {@code custom_id}
 * @param line           the request line as UTF-8 JSON, without a trailing newline (exactly what is uploaded)
 * @param carriedHeaders the carried headers as a UTF-8 JSON object, or {@code null}; never uploaded
 * @param tokens         estimated input tokens (0 when not estimated)
 */
public record SpoolRecord(String customId, byte[] line, byte[] carriedHeaders, int tokens) {
}
