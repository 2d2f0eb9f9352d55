package dev.camelbatch.openaibatch.api;

import java.time.Duration;

/**
 * {@code POST /files} was sent but no usable answer came back: the file may have been stored. The client does not
 * upload it again; the caller looks for it by its {@linkplain #getFilename() filename} first.
 */
public class UploadOutcomeUnknownException extends OutcomeUnknownException {

    private static final long serialVersionUID = 1L;

    private final String filename;

    public UploadOutcomeUnknownException(String message, String filename, Duration retryAfter, Throwable cause) {
        super(message, retryAfter, cause);
        this.filename = filename;
    }

    /** The filename the upload announced. */
    public String getFilename() {
        return filename;
    }
}
