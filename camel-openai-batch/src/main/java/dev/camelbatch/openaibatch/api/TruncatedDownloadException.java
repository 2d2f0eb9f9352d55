package dev.camelbatch.openaibatch.api;

import java.io.IOException;

/**
 * A file download ended early: fewer (or more) bytes than the announced {@code Content-Length}, or the connection
 * closed or failed in the middle of the body. Thrown by the stream of
 * {@link OpenAIBatchClient#downloadFileContent(String)}; the caller may download again.
 */
public class TruncatedDownloadException extends IOException {

    private static final long serialVersionUID = 1L;

    private final long expectedBytes;
    private final long receivedBytes;

    public TruncatedDownloadException(String message, long expectedBytes, long receivedBytes, Throwable cause) {
        super(message, cause);
        this.expectedBytes = expectedBytes;
        this.receivedBytes = receivedBytes;
    }

    /** The announced length, or -1 when the server did not announce one. */
    public long getExpectedBytes() {
        return expectedBytes;
    }

    /** The bytes read before the failure. */
    public long getReceivedBytes() {
        return receivedBytes;
    }
}
