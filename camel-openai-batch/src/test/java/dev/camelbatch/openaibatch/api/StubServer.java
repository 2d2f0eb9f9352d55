package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A tiny scripted HTTP server on the loopback interface for wire-level tests. Each route ("METHOD /path") has a queue
 * of actions; the last action of a queue stays and answers every further call. Every request is recorded.
 */
final class StubServer implements AutoCloseable {

    /** A recorded request. */
    static final class Recorded {
        final String method;
        final URI uri;
        final Headers headers;
        final byte[] body;

        Recorded(String method, URI uri, Headers headers, byte[] body) {
            this.method = method;
            this.uri = uri;
            this.headers = headers;
            this.body = body;
        }

        String header(String name) {
            return headers.getFirst(name);
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String path() {
            return uri.getPath();
        }
    }

    /** What the server does for one call. */
    @FunctionalInterface
    interface Action {
        void run(HttpExchange exchange, Recorded request) throws IOException;
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "stub-server");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Deque<Action>> routes = new HashMap<>();
    private final List<Recorded> requests = new CopyOnWriteArrayList<>();
    private volatile boolean recordBodies = true;

    StubServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** Base URL such as {@code http://127.0.0.1:PORT/v1}. */
    String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Whether request bodies are kept (false: they are read and discarded, only counted). */
    StubServer recordBodies(boolean record) {
        this.recordBodies = record;
        return this;
    }

    /** Queues actions for a route, e.g. {@code on("POST /v1/files", status(500), json(200, ...))}. */
    synchronized StubServer on(String route, Action... actions) {
        Deque<Action> q = routes.computeIfAbsent(route, k -> new ArrayDeque<>());
        for (Action a : actions) {
            q.addLast(a);
        }
        return this;
    }

    List<Recorded> requests() {
        return new ArrayList<>(requests);
    }

    List<Recorded> requests(String route) {
        List<Recorded> out = new ArrayList<>();
        for (Recorded r : requests) {
            if ((r.method + " " + r.path()).equals(route)) {
                out.add(r);
            }
        }
        return out;
    }

    private synchronized Action next(String route) {
        Deque<Action> q = routes.get(route);
        if (q == null || q.isEmpty()) {
            return null;
        }
        return q.size() > 1 ? q.pollFirst() : q.peekFirst();
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            if (recordBodies) {
                body = in.readAllBytes();
            } else {
                long count = in.transferTo(OutputStream.nullOutputStream());
                body = String.valueOf(count).getBytes(StandardCharsets.US_ASCII);
            }
        }
        String path = exchange.getRequestURI().getPath();
        Recorded rec = new Recorded(exchange.getRequestMethod(), exchange.getRequestURI(),
                copy(exchange.getRequestHeaders()), body);
        requests.add(rec);
        Action action = next(exchange.getRequestMethod() + " " + path);
        try {
            if (action == null) {
                json(404, "{\"error\":{\"message\":\"no route " + path + "\",\"type\":\"invalid_request_error\","
                        + "\"param\":null,\"code\":null}}").run(exchange, rec);
            } else {
                action.run(exchange, rec);
            }
        } finally {
            exchange.close();
        }
    }

    private static Headers copy(Headers h) {
        Headers c = new Headers();
        h.forEach((k, v) -> c.put(k, new ArrayList<>(v)));
        return c;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------ actions

    static Action json(int status, String body, String... headerPairs) {
        return (ex, req) -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            for (int i = 0; i + 1 < headerPairs.length; i += 2) {
                ex.getResponseHeaders().add(headerPairs[i], headerPairs[i + 1]);
            }
            ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        };
    }

    static Action error(int status, String type, String code, String message, String... headerPairs) {
        String body = "{\"error\":{\"message\":" + quote(message) + ",\"type\":" + quote(type) + ",\"param\":null,"
                + "\"code\":" + quote(code) + "}}";
        return json(status, body, headerPairs);
    }

    static Action bytes(int status, byte[] content, String contentType) {
        return (ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", contentType);
            ex.sendResponseHeaders(status, content.length == 0 ? -1 : content.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(content);
            }
        };
    }

    /** Closes the connection without any response. */
    static Action dropConnection() {
        return (ex, req) -> {
            // closing the exchange before sendResponseHeaders closes the connection
        };
    }

    /** Waits, then runs the next action (for timeouts). */
    static Action delayed(long millis, Action then) {
        return (ex, req) -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            then.run(ex, req);
        };
    }

    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static String batchJson(String id, String status) {
        return "{\"id\":\"" + id + "\",\"object\":\"batch\",\"endpoint\":\"/v1/chat/completions\",\"errors\":null,"
                + "\"input_file_id\":\"file-in\",\"completion_window\":\"24h\",\"status\":\"" + status + "\","
                + "\"output_file_id\":null,\"error_file_id\":null,\"created_at\":1711471533,\"in_progress_at\":null,"
                + "\"expires_at\":1711557933,\"finalizing_at\":null,\"completed_at\":null,\"failed_at\":null,"
                + "\"expired_at\":null,\"cancelling_at\":null,\"cancelled_at\":null,"
                + "\"request_counts\":{\"total\":0,\"completed\":0,\"failed\":0},\"metadata\":null}";
    }

    static String fileJson(String id, String filename, long bytes) {
        return "{\"id\":\"" + id + "\",\"object\":\"file\",\"bytes\":" + bytes + ",\"created_at\":1711471533,"
                + "\"expires_at\":null,\"filename\":\"" + filename + "\",\"purpose\":\"batch\",\"status\":\"processed\"}";
    }
}
