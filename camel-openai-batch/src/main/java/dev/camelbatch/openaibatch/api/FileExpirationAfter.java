package dev.camelbatch.openaibatch.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * An expiration policy ({@code FileExpirationAfter} / {@code BatchFileExpirationAfter}): the file expires
 * {@code seconds} after the anchor ({@code created_at}, the only anchor the API supports). The API accepts 3600 to
 * 2592000 seconds; this class does not enforce the range (the server answers 400 outside it).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public class FileExpirationAfter {

    public static final String ANCHOR_CREATED_AT = "created_at";

    @JsonProperty("anchor")
    private String anchor = ANCHOR_CREATED_AT;
    @JsonProperty("seconds")
    private Long seconds;

    public FileExpirationAfter() {
    }

    public FileExpirationAfter(String anchor, Long seconds) {
        this.anchor = anchor;
        this.seconds = seconds;
    }

    /** {@code {anchor: "created_at", seconds}}. */
    public static FileExpirationAfter createdAtPlus(long seconds) {
        return new FileExpirationAfter(ANCHOR_CREATED_AT, seconds);
    }

    public String getAnchor() {
        return anchor;
    }

    public void setAnchor(String anchor) {
        this.anchor = anchor;
    }

    public Long getSeconds() {
        return seconds;
    }

    public void setSeconds(Long seconds) {
        this.seconds = seconds;
    }

    @Override
    public String toString() {
        return "{anchor=" + anchor + ", seconds=" + seconds + '}';
    }
}
