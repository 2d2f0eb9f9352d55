package dev.camelbatch.openaibatch.engine;

/**
 * A request's custom id is already used by a request that is spooled or in flight under the same endpoint name.
 */
public class DuplicateCustomIdException extends IllegalArgumentException {

    private final String customId;

    public DuplicateCustomIdException(String name, String customId, String where) {
        super("custom_id '" + customId + "' is already used by a request that is spooled or in flight under the name '"
              + name + "'" + (where != null ? " (" + where + ")" : "")
              + "; custom ids must be unique among the requests not yet delivered");
        this.customId = customId;
    }

    public String getCustomId() {
        return customId;
    }
}
