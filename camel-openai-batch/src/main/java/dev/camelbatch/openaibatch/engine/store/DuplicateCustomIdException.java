package dev.camelbatch.openaibatch.engine.store;

/**
 * A request's custom id is already used by a request that is spooled or in flight under the same endpoint name.
 */
public class DuplicateCustomIdException extends IllegalArgumentException {

    private final String customId;
    private final long lineNumber;

    public DuplicateCustomIdException(String name, String customId, String where) {
        this(name, customId, where, 0);
    }

    /** With the 1-based line of a JSONL document that holds the duplicate (0 = not known or not a document). */
    public DuplicateCustomIdException(String name, String customId, String where, long lineNumber) {
        super("custom_id '" + customId + "' is already used by a request that is spooled or in flight under the name '"
              + name + "'" + (where != null ? " (" + where + ")" : "")
              + "; custom ids must be unique among the requests not yet delivered");
        this.customId = customId;
        this.lineNumber = lineNumber;
    }

    public String getCustomId() {
        return customId;
    }

    /** The 1-based line of the JSONL document holding the duplicate, or 0 when not known. */
    public long getLineNumber() {
        return lineNumber;
    }
}
