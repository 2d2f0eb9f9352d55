package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.net.Socket;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLSocket;

import org.apache.hc.client5.http.impl.io.DefaultManagedHttpClientConnection;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.impl.io.SocketHolder;
import org.apache.hc.core5.http.io.HttpConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connections that cannot print the API key: HttpClient's own {@code org.apache.hc.client5.http.headers} and
 * {@code ...wire} DEBUG logs write every request header and byte, {@code Authorization} and {@code api-key} included.
 * These connections bypass the wire log and write the request headers to {@code dev.camelbatch.openaibatch.api.headers}
 * at DEBUG with the credential headers masked.
 */
final class QuietConnectionFactory implements HttpConnectionFactory<ManagedHttpClientConnection> {

    private static final Logger HEADERS = LoggerFactory.getLogger("dev.camelbatch.openaibatch.api.headers");
    private static final AtomicLong COUNTER = new AtomicLong();

    @Override
    public ManagedHttpClientConnection createConnection(Socket socket) throws IOException {
        QuietConnection c = new QuietConnection("openai-batch-" + COUNTER.getAndIncrement());
        if (socket != null) {
            c.bind(socket);
        }
        return c;
    }

    static boolean isCredential(String headerName) {
        String n = headerName.toLowerCase(Locale.ROOT);
        return n.equals("authorization") || n.equals("api-key") || n.equals("proxy-authorization");
    }

    private static final class QuietConnection extends DefaultManagedHttpClientConnection {

        QuietConnection(String id) {
            super(id);
        }

        @Override
        public void bind(Socket socket) throws IOException {
            bind(new SocketHolder(socket));
        }

        @Override
        public void bind(SSLSocket sslSocket, Socket socket) throws IOException {
            bind(new SocketHolder(sslSocket, socket));
        }

        @Override
        protected void onRequestSubmitted(ClassicHttpRequest request) {
            if (request != null && HEADERS.isDebugEnabled()) {
                StringBuilder sb = new StringBuilder(getId()).append(" >> ").append(request.getMethod()).append(' ')
                        .append(request.getRequestUri());
                for (Header h : request.getHeaders()) {
                    sb.append("\n  ").append(h.getName()).append(": ")
                            .append(isCredential(h.getName()) ? "****" : h.getValue());
                }
                HEADERS.debug("{}", sb);
            }
        }
    }
}
