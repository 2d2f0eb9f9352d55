package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes responses, optionally truncating the body ({@link Fault#TRUNCATED_DOWNLOAD}). */
final class Responder {

    private final HttpExchange exchange;
    private final String requestId;
    private final long startNanos;
    private final boolean truncate;
    int status;

    Responder(HttpExchange exchange, String requestId, long startNanos, boolean truncate) {
        this.exchange = exchange;
        this.requestId = requestId;
        this.startNanos = startNanos;
        this.truncate = truncate;
    }

    Headers headers() {
        return exchange.getResponseHeaders();
    }

    void json(int status, JsonNode body) throws IOException {
        bytes(status, "application/json", Json.bytes(body));
    }

    void bytes(int status, String contentType, byte[] body) throws IOException {
        commonHeaders(status, contentType);
        if (body.length == 0) {
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
            return;
        }
        exchange.sendResponseHeaders(status, body.length);
        OutputStream out = exchange.getResponseBody();
        if (truncate) {
            out.write(body, 0, body.length / 2);
            out.flush();
            throw new SimulatedFaultException("truncated response after " + body.length / 2 + " of " + body.length
                    + " bytes");
        }
        out.write(body);
        out.close();
    }

    /** Streams a file from disk with its Content-Length. */
    void file(Path path, long size, String contentType) throws IOException {
        commonHeaders(200, contentType);
        if (size == 0) {
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
            return;
        }
        exchange.sendResponseHeaders(200, size);
        OutputStream out = exchange.getResponseBody();
        long limit = truncate ? size / 2 : size;
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = Files.newInputStream(path)) {
            long sent = 0;
            while (sent < limit) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, limit - sent));
                if (r < 0) {
                    break;
                }
                out.write(buf, 0, r);
                sent += r;
            }
        }
        if (truncate) {
            out.flush();
            throw new SimulatedFaultException("truncated download after " + limit + " of " + size + " bytes");
        }
        out.close();
    }

    private void commonHeaders(int status, String contentType) {
        this.status = status;
        Headers h = exchange.getResponseHeaders();
        h.set("Content-Type", contentType);
        h.set("x-request-id", requestId);
        h.set("openai-version", "2020-10-01");
        h.set("openai-processing-ms", Long.toString((System.nanoTime() - startNanos) / 1_000_000));
    }
}
