package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.InputStream;

import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpEntity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body of a content download: counts bytes, compares them with Content-Length at EOF, and turns any failure
 * while streaming into a {@link TruncatedDownloadException}. Closing before EOF aborts the connection.
 */
final class DownloadInputStream extends InputStream {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchClient.class);

    private final CloseableHttpResponse response;
    private final String target;
    private final InputStream in;
    private final long expected;
    private long received;
    private boolean eof;
    private boolean closed;

    DownloadInputStream(ClassicHttpResponse response, String target) throws IOException {
        this.response = (CloseableHttpResponse) response;
        this.target = target;
        HttpEntity entity = response.getEntity();
        this.in = entity == null ? InputStream.nullInputStream() : entity.getContent();
        this.expected = entity == null ? 0 : entity.getContentLength();
    }

    private final byte[] one = new byte[1];

    @Override
    public int read() throws IOException {
        int n = read(one, 0, 1);
        return n == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (eof) {
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            throw truncated("the connection failed after " + received + " bytes"
                    + (expected >= 0 ? " of " + expected : "") + ": " + ErrorResponses.describe(e), e);
        }
        if (n == -1) {
            eof = true;
            if (expected >= 0 && received != expected) {
                throw truncated("the body ended after " + received + " bytes but Content-Length was "
                        + expected, null);
            }
            return -1;
        }
        received += n;
        if (expected >= 0 && received > expected) {
            throw truncated("the body is longer than its Content-Length " + expected, null);
        }
        return n;
    }

    @Override
    public int available() throws IOException {
        return closed || eof ? 0 : in.available();
    }

    private TruncatedDownloadException truncated(String detail, Throwable cause) {
        LOG.warn("GET {}: truncated download: {}", target, detail);
        abort();
        return new TruncatedDownloadException("truncated download of " + target + ": " + detail, expected,
                received, cause);
    }

    private void abort() {
        closed = true;
        OpenAIBatchClient.closeQuietly(response, false);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // at EOF the connection goes back to the pool; before EOF it is dropped (nothing more is read)
        OpenAIBatchClient.closeQuietly(response, eof);
    }
}
