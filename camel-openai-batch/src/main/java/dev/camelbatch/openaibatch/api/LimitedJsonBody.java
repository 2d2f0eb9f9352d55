package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.InputStream;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.core5.http.ClassicHttpResponse;

/**
 * The body of a JSON answer, which fails once more than {@link OpenAIBatchClient#MAX_JSON_BODY_BYTES} bytes were
 * read; the connection is then dropped, so that nothing more of the body is read (not even to reuse the connection).
 */
final class LimitedJsonBody extends java.io.FilterInputStream {

    /** A JSON answer over {@link OpenAIBatchClient#MAX_JSON_BODY_BYTES}: not the expected JSON (so not retried). */
    static final class BodyTooLargeException extends JsonProcessingException {
        private static final long serialVersionUID = 1L;

        BodyTooLargeException(String message) {
            super(message);
        }
    }

    private final ClassicHttpResponse response;
    private long read;
    private boolean aborted;

    LimitedJsonBody(ClassicHttpResponse response, InputStream in) {
        super(in == null ? InputStream.nullInputStream() : in);
        this.response = response;
    }

    @Override
    public void close() throws IOException {
        if (!aborted) {
            super.close();
        }
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            count(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            count(n);
        }
        return n;
    }

    private void count(int n) throws BodyTooLargeException {
        read += n;
        if (read > OpenAIBatchClient.MAX_JSON_BODY_BYTES) {
            aborted = true;
            if (response instanceof CloseableHttpResponse r) {
                OpenAIBatchClient.closeQuietly(r, false);
            }
            throw new BodyTooLargeException("the response body exceeds the limit of "
                    + OpenAIBatchClient.MAX_JSON_BODY_BYTES
                    + " bytes for a JSON answer");
        }
    }
}
