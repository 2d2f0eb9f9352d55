package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The answer to a file deletion ({@code DeleteFileResponse}). */
@JsonIgnoreProperties(ignoreUnknown = true)
public class FileDeleted {

    @JsonProperty("id")
    private String id;
    @JsonProperty("object")
    private String object;
    @JsonProperty("deleted")
    private Boolean deleted;

    public FileDeleted() {
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public String getObject() {
        return object;
    }

    public void setObject(String object) {
        this.object = object;
    }

    public void setDeleted(Boolean deleted) {
        this.deleted = deleted;
    }

    /** Whether the server confirmed the deletion. */
    public boolean isDeleted() {
        return Boolean.TRUE.equals(deleted);
    }

    @Override
    public String toString() {
        return "FileDeleted{id=" + id + ", deleted=" + deleted + '}';
    }
}
