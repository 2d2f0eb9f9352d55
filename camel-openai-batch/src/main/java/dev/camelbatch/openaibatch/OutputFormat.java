package dev.camelbatch.openaibatch;

/** What the body of a result exchange holds. */
public enum OutputFormat {
    /** The useful content: assistant text (chat, responses, completions), the vector (embeddings), the result (moderations). */
    content,
    /** The response body as JSON text. */
    json,
    /** The response body as a {@code Map}. */
    map,
    /** The raw output line as JSON text. */
    raw
}
