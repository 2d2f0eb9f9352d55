package dev.camelbatch.openaibatch.engine.lines;

/**
 * A request that cannot be spooled: it names the field (and the line of a JSONL document) and the rule broken.
 * Nothing was stored when this is thrown.
 */
public class InvalidRequestException extends IllegalArgumentException {

    private final String field;
    private final long lineNumber;

    public InvalidRequestException(String field, String message) {
        this(field, 0, message);
    }

    public InvalidRequestException(String field, long lineNumber, String message) {
        super((lineNumber > 0 ? "line " + lineNumber + ": " : "") + message);
        this.field = field;
        this.lineNumber = lineNumber;
    }

    /** The offending field, e.g. {@code body.model}, {@code url}, {@code custom_id}. */
    public String getField() {
        return field;
    }

    /** The 1-based line of a JSONL document, or 0 for a single request. */
    public long getLineNumber() {
        return lineNumber;
    }

    public InvalidRequestException atLine(long line) {
        InvalidRequestException e = new InvalidRequestException(field, line, getMessage());
        e.initCause(getCause());
        return e;
    }
}
