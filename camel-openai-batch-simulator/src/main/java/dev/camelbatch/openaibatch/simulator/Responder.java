package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes responses, optionally truncating the body ({@link Fault#TRUNCATED_DOWNLOAD}) or replacing the answer of a
 * call that was carried out ({@link Fault#LOST_RESPONSE}, {@link Fault#SERVER_ERROR_AFTER_EFFECT}).
 */
final class Responder {

    private final HttpExchange exchange;
    private final String requestId;
    private final long startNanos;
    private final boolean truncate;
    private Fault afterEffect;
    private final FaultInjector faults;
    int status;

    Responder(HttpExchange exchange, String requestId, long startNanos, Fault fault, FaultInjector faults) {
        this.exchange = exchange;
        this.requestId = requestId;
        this.startNanos = startNanos;
        this.truncate = fault == Fault.TRUNCATED_DOWNLOAD;
        this.afterEffect = fault != null && fault.afterEffect() ? fault : null;
        this.faults = faults;
    }

    /**
     * The answer of a carried-out call is lost (the connection closes, or a 500 takes its place), or held before it
     * is sent; true when the real answer is to be sent now.
     */
    private boolean loseAnswer(int realStatus) throws IOException {
        if (afterEffect == Fault.HELD_ANSWER) {
            afterEffect = null;
            try {
                faults.holdAnswer();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SimulatedFaultException("interrupted while holding the answer");
            }
            return true;
        }
        if (afterEffect == Fault.LOST_RESPONSE) {
            throw new SimulatedFaultException("answer " + realStatus + " lost after the call took effect (injected)");
        }
        byte[] body = Json.bytes(ApiException.errorBody("The server had an error while processing your request. "
                + "Sorry about that! (simulated after the call took effect)", "server_error", null, null));
        commonHeaders(500, "application/json");
        exchange.sendResponseHeaders(500, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
        return false;
    }

    Headers headers() {
        return exchange.getResponseHeaders();
    }

    void json(int status, JsonNode body) throws IOException {
        bytes(status, "application/json", Json.bytes(body));
    }

    void bytes(int status, String contentType, byte[] body) throws IOException {
        if (afterEffect != null && !loseAnswer(status)) {
            return;
        }
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
        if (afterEffect != null && !loseAnswer(200)) {
            return;
        }
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
