package dev.camelbatch.openaibatch.simulator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes HTTP calls to the file store and the batch runner: authentication (OpenAI and Azure), injected faults, the
 * Files and Batch routes and the simulator's own admin routes.
 * <p>
 * Long because it is the whole HTTP surface in one table ({@link #resolve}) with the handful of parsers (multipart,
 * query, bounded JSON bodies) the routes share.
 */
final class ApiHandler implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);

    static final Set<String> UPLOAD_PURPOSES = Set.of("assistants", "batch", "fine-tune", "vision", "user_data", "evals");
    private static final int MAX_JSON_BODY = 1024 * 1024;

    private final BatchSimulator sim;
    private final SimulatorConfig cfg;
    private final FileStore files;
    private final BatchRunner batches;
    private final StatsRecorder stats;
    private final FaultInjector faults;

    ApiHandler(BatchSimulator sim, SimulatorConfig cfg, FileStore files, BatchRunner batches, StatsRecorder stats,
            FaultInjector faults) {
        this.sim = sim;
        this.cfg = cfg;
        this.files = files;
        this.batches = batches;
        this.stats = stats;
        this.faults = faults;
    }

    enum Kind {
        FILES, FILE, FILE_CONTENT, BATCHES, BATCH, BATCH_CANCEL, UNKNOWN
    }

    /** A resolved route: {@code key} for the stats, {@code call} ("METHOD /v1/actual/path") for fault matching. */
    record Route(Kind kind, String key, String call, String id) {
    }

    Route resolve(String method, String rawPath) {
        String prefix = cfg.pathPrefix();
        String path = rawPath.length() > 1 && rawPath.endsWith("/") ? rawPath.substring(0, rawPath.length() - 1) : rawPath;
        if (!path.startsWith(prefix + "/")) {
            return new Route(Kind.UNKNOWN, method + " <unknown>", method + " " + path, null);
        }
        String rest = path.substring(prefix.length()); // "/files/x/content"
        String call = method + " " + SimulatorConfig.CANONICAL_PREFIX + rest;
        String[] seg = rest.substring(1).split("/", -1);
        Kind kind = Kind.UNKNOWN;
        String id = null;
        String template = null;
        if (seg.length >= 1 && seg.length <= 3 && (seg[0].equals("files") || seg[0].equals("batches"))) {
            boolean isFiles = seg[0].equals("files");
            if (seg.length == 1 && (method.equals("GET") || method.equals("POST"))) {
                kind = isFiles ? Kind.FILES : Kind.BATCHES;
                template = "/" + seg[0];
            } else if (seg.length == 2 && !seg[1].isEmpty()) {
                id = decode(seg[1]);
                if (method.equals("GET") || (isFiles && method.equals("DELETE"))) {
                    kind = isFiles ? Kind.FILE : Kind.BATCH;
                    template = "/" + seg[0] + "/{id}";
                }
            } else if (seg.length == 3 && !seg[1].isEmpty()) {
                id = decode(seg[1]);
                if (isFiles && seg[2].equals("content") && method.equals("GET")) {
                    kind = Kind.FILE_CONTENT;
                    template = "/files/{id}/content";
                } else if (!isFiles && seg[2].equals("cancel") && method.equals("POST")) {
                    kind = Kind.BATCH_CANCEL;
                    template = "/batches/{id}/cancel";
                }
            }
        }
        String key = kind == Kind.UNKNOWN ? method + " <unknown>"
                : method + " " + SimulatorConfig.CANONICAL_PREFIX + template;
        return new Route(kind, key, call, id);
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        long start = System.nanoTime();
        String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
        String rawPath = ex.getRequestURI().getRawPath();
        try {
            if (rawPath.startsWith("/__simulator/")) {
                admin(ex, method, rawPath.substring("/__simulator".length()));
                return;
            }
            Route route = resolve(method, rawPath);
            stats.call(route.key());
            if (route.kind() == Kind.BATCH) {
                stats.poll(route.id());
            }
            Fault fault = faults.pick(route.call());
            Responder out = new Responder(ex, Ids.request(), start, fault, faults);
            try {
                if (fault != null && applyFault(fault, out, route)) {
                    return;
                }
                authenticate(ex);
                if (cfg.azureMode() && route.kind() != Kind.UNKNOWN && query(ex).get("api-version") == null) {
                    throw ApiException.badRequest("Missing required query parameter: 'api-version'.", "api-version",
                            "missing_required_parameter");
                }
                dispatch(route, method, ex, out);
            } catch (ApiException e) {
                out.json(e.status, e.toJson());
            } catch (SimulatedFaultException e) {
                LOG.debug("{} -> {}", route.call(), e.getMessage());
                throw e;
            } catch (IOException e) {
                throw e;
            } catch (RuntimeException e) {
                LOG.error("{} failed", route.call(), e);
                out.json(500, ApiException.errorBody("The simulator had an internal error: " + e,
                        "server_error", null, null));
            }
            LOG.debug("{} -> {} ({} ms)", route.call(), out.status, (System.nanoTime() - start) / 1_000_000);
        } finally {
            ex.close();
        }
    }

    /** Returns true if the call is answered by the fault. */
    private boolean applyFault(Fault fault, Responder out, Route route) throws IOException {
        switch (fault) {
            case RATE_LIMIT_429 -> {
                out.headers().set("Retry-After", "1");
                out.headers().set("retry-after-ms", "1000");
                out.headers().set("x-ratelimit-limit-requests", "5000");
                out.headers().set("x-ratelimit-remaining-requests", "0");
                out.headers().set("x-ratelimit-reset-requests", "1s");
                out.json(429, ApiException.errorBody("Rate limit reached for requests (simulated). Please try again in 1s.",
                        "requests", null, "rate_limit_exceeded"));
                LOG.debug("{} -> injected 429", route.call());
                return true;
            }
            case SERVER_ERROR_500 -> {
                out.json(500, ApiException.errorBody("The server had an error while processing your request. Sorry "
                        + "about that! (simulated)", "server_error", null, null));
                LOG.debug("{} -> injected 500", route.call());
                return true;
            }
            case CONNECTION_RESET -> throw new SimulatedFaultException("connection reset (injected)");
            case SLOW_RESPONSE -> {
                try {
                    Thread.sleep(faults.slowResponseDelay().toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SimulatedFaultException("interrupted while delaying the response");
                }
                return false;
            }
            case TRUNCATED_DOWNLOAD -> {
                return false; // the Responder truncates the body
            }
            case LOST_RESPONSE, SERVER_ERROR_AFTER_EFFECT, HELD_ANSWER -> {
                return false; // the call is carried out; the Responder loses its answer
            }
            default -> throw new IllegalStateException(fault.name());
        }
    }

    private void authenticate(HttpExchange ex) {
        if (cfg.azureMode()) {
            authenticateAzure(ex);
            return;
        }
        String key = cfg.apiKey();
        if (key == null) {
            return;
        }
        String provided = null;
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            provided = auth.substring(7).trim();
        }
        if (provided == null || provided.isEmpty()) {
            throw new ApiException(401, "You didn't provide an API key. You need to provide your API key in an "
                    + "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error", null, null);
        }
        if (!MessageDigest.isEqual(provided.getBytes(StandardCharsets.UTF_8), key.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "Incorrect API key provided: " + mask(provided)
                    + ". You can find your API key at https://platform.openai.com/account/api-keys.",
                    "invalid_request_error", null, "invalid_api_key");
        }
    }

    /**
     * Azure OpenAI's key authentication: the resource key in the {@code api-key} header. A bearer token in
     * {@code Authorization} is what Azure reads as a Microsoft Entra ID access token, which the simulator cannot
     * issue: it is refused (also without a configured key), so that a client sending its key as a bearer token in
     * Azure mode fails here as it would on Azure.
     */
    private void authenticateAzure(HttpExchange ex) {
        String provided = ex.getRequestHeaders().getFirst("api-key");
        if (provided == null || provided.isEmpty()) {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
                throw ApiException.azureAccessDenied("Unauthorized. Access token is missing, invalid, audience is "
                        + "incorrect (https://cognitiveservices.azure.com), or have expired.");
            }
            if (cfg.apiKey() == null) {
                return;
            }
            throw ApiException.azureAccessDenied("Access denied due to missing subscription key. Make sure to "
                    + "include subscription key when making requests to an API.");
        }
        String key = cfg.apiKey();
        if (key != null && !MessageDigest.isEqual(provided.getBytes(StandardCharsets.UTF_8),
                key.getBytes(StandardCharsets.UTF_8))) {
            throw ApiException.azureAccessDenied("Access denied due to invalid subscription key or wrong API endpoint. "
                    + "Make sure to provide a valid key for an active subscription and use a correct regional API "
                    + "endpoint for your resource.");
        }
    }

    /** All but the last 4 characters replaced by '*' (at most 40 of them). */
    static String mask(String key) {
        if (key.length() <= 4) {
            return "*".repeat(key.length());
        }
        return "*".repeat(Math.min(40, key.length() - 4)) + key.substring(key.length() - 4);
    }

    private void dispatch(Route route, String method, HttpExchange ex, Responder out) throws IOException {
        switch (route.kind()) {
            case FILES -> {
                if (method.equals("POST")) {
                    out.json(200, upload(ex));
                } else {
                    Map<String, String> q = query(ex);
                    int limit = intParam(q, "limit", 10000, 1, 10000);
                    String order = q.getOrDefault("order", "desc");
                    if (!order.equals("asc") && !order.equals("desc")) {
                        throw ApiException.badRequest("Invalid value for 'order': '" + order
                                + "'. Supported values are: 'asc' and 'desc'.", "order", "invalid_value");
                    }
                    out.json(200, files.list(blankToNull(q.get("purpose")), limit, order.equals("asc"),
                            blankToNull(q.get("after"))));
                }
            }
            case FILE -> {
                if (method.equals("DELETE")) {
                    StoredFile f = files.delete(route.id());
                    if (f == null) {
                        throw ApiException.notFound("No such File object: " + route.id(), "id");
                    }
                    ObjectNode n = Json.object();
                    n.put("id", f.id());
                    n.put("object", "file");
                    n.put("deleted", true);
                    out.json(200, n);
                } else {
                    out.json(200, files.require(route.id()).toJson());
                }
            }
            case FILE_CONTENT -> {
                StoredFile f = files.require(route.id());
                long size;
                try {
                    size = Files.size(f.path());
                } catch (IOException e) {
                    throw ApiException.notFound("No such File object: " + route.id(), "id");
                }
                out.file(f.path(), size, "application/octet-stream");
            }
            case BATCHES -> {
                if (method.equals("POST")) {
                    out.json(200, batches.create(readJson(ex)));
                } else {
                    Map<String, String> q = query(ex);
                    out.json(200, batches.list(blankToNull(q.get("after")), intParam(q, "limit", 20, 1, 100)));
                }
            }
            case BATCH -> out.json(200, batches.get(route.id()));
            case BATCH_CANCEL -> out.json(200, batches.cancel(route.id()));
            default -> throw new ApiException(404, "Invalid URL (" + method + " " + ex.getRequestURI().getRawPath() + ")",
                    "invalid_request_error", null, null);
        }
    }

    // ------------------------------------------------------------------ uploads

    private ObjectNode upload(HttpExchange ex) throws IOException {
        String boundary = MultipartStream.boundaryOf(ex.getRequestHeaders().getFirst("Content-Type"));
        if (boundary == null) {
            throw ApiException.badRequest("The request must be multipart/form-data with a boundary.", null, null);
        }
        MultipartStream parts = new MultipartStream(ex.getRequestBody(), boundary);
        Path tmp = null;
        try {
            String filename = null;
            String purpose = null;
            String anchor = null;
            String seconds = null;
            boolean sawFile = false;
            MultipartStream.Part part;
            while ((part = parts.nextPart()) != null) {
                String name = part.name() == null ? "" : part.name();
                switch (name) {
                    case "file" -> {
                        if (sawFile) {
                            throw ApiException.badRequest("Only one 'file' part is allowed.", "file", null);
                        }
                        sawFile = true;
                        filename = part.filename() == null || part.filename().isBlank() ? "upload" : part.filename();
                        tmp = files.newTempFile("upload");
                        try (OutputStream os = Files.newOutputStream(tmp)) {
                            parts.copyBody(os, cfg.maxUploadBytes());
                        }
                    }
                    case "purpose" -> purpose = parts.readText(1024).trim();
                    case "expires_after[anchor]" -> anchor = parts.readText(1024).trim();
                    case "expires_after[seconds]" -> seconds = parts.readText(1024).trim();
                    default -> parts.copyBody(OutputStream.nullOutputStream(), Long.MAX_VALUE);
                }
            }
            if (!sawFile) {
                throw ApiException.badRequest("Missing required parameter: 'file'.", "file", "missing_required_parameter");
            }
            if (purpose == null || purpose.isEmpty()) {
                throw ApiException.badRequest("Missing required parameter: 'purpose'.", "purpose",
                        "missing_required_parameter");
            }
            if (!UPLOAD_PURPOSES.contains(purpose)) {
                throw ApiException.badRequest("Invalid value for 'purpose': '" + purpose + "'. Supported values are: "
                        + "'assistants', 'batch', 'fine-tune', 'vision', 'user_data' and 'evals'.", "purpose",
                        "invalid_value");
            }
            if (purpose.equals("batch") && !filename.toLowerCase(Locale.ROOT).endsWith(".jsonl")) {
                throw ApiException.badRequest("Invalid file format for Batch API. Must be .jsonl", "file", null);
            }
            Long ttl = null;
            if (anchor != null || seconds != null) {
                if (!"created_at".equals(anchor)) {
                    throw ApiException.badRequest("Invalid value for 'expires_after[anchor]': '" + anchor
                            + "'. Supported values are: 'created_at'.", "expires_after[anchor]", "invalid_value");
                }
                long s;
                try {
                    s = Long.parseLong(seconds == null ? "" : seconds);
                } catch (NumberFormatException e) {
                    throw ApiException.badRequest("Invalid 'expires_after[seconds]': expected an integer.",
                            "expires_after[seconds]", "invalid_type");
                }
                ttl = BatchRunner.checkSeconds(s, "expires_after");
            } else if (purpose.equals("batch")) {
                ttl = FileStore.DEFAULT_BATCH_FILE_TTL_SECONDS;
            }
            StoredFile f = files.add(tmp, filename, purpose, ttl);
            tmp = null;
            LOG.debug("stored {} ({} bytes, purpose {})", f.id(), f.bytes(), purpose);
            return f.toJson();
        } finally {
            FileStore.deleteQuietly(tmp);
        }
    }

    // ------------------------------------------------------------------ admin

    private void admin(HttpExchange ex, String method, String path) throws IOException {
        Responder out = new Responder(ex, Ids.request(), System.nanoTime(), null, faults);
        try {
            if (path.equals("/stats") && method.equals("GET")) {
                out.json(200, sim.stats().toJson());
            } else if (path.equals("/executions") && method.equals("GET")) {
                ObjectNode byId = Json.object();
                sim.executionsByCustomId().forEach((id, list) -> {
                    var arr = byId.putArray(id);
                    for (Execution e : list) {
                        ObjectNode o = arr.addObject();
                        o.put("batch_id", e.batchId());
                        if (e.statusCode() != null) {
                            o.put("status_code", e.statusCode().intValue());
                        } else {
                            o.putNull("status_code");
                        }
                        Json.putString(o, "error_code", e.errorCode());
                    }
                });
                out.json(200, Json.object().put("recording", sim.recordsExecutions()).set("executions", byId));
            } else if (path.equals("/reset") && method.equals("POST")) {
                sim.reset();
                out.json(200, Json.object().put("reset", true));
            } else if (path.equals("/health") && method.equals("GET")) {
                out.json(200, Json.object().put("status", "ok").put("baseUrl", sim.baseUrl()));
            } else if (path.startsWith("/batches/") && method.equals("POST")) {
                String[] seg = path.substring("/batches/".length()).split("/");
                if (seg.length != 2) {
                    throw ApiException.notFound("Invalid URL (" + method + " /__simulator" + path + ")", null);
                }
                String id = decode(seg[0]);
                batches.require(id);
                switch (seg[1]) {
                    case "cancel" -> sim.cancelBatch(id);
                    case "expire" -> sim.expireBatch(id);
                    case "stuck" -> sim.makeStuck(id);
                    case "unstuck" -> sim.unstuck(id);
                    default -> throw ApiException.notFound("Invalid URL (" + method + " /__simulator" + path + ")", null);
                }
                out.json(200, sim.batch(id));
            } else {
                throw ApiException.notFound("Invalid URL (" + method + " /__simulator" + path + ")", null);
            }
        } catch (ApiException e) {
            out.json(e.status, e.toJson());
        } catch (IllegalStateException e) {
            out.json(409, ApiException.errorBody(e.getMessage(), "invalid_request_error", null, null));
        } finally {
            ex.close();
        }
    }

    // ------------------------------------------------------------------ helpers

    private static JsonNode readJson(HttpExchange ex) throws IOException {
        byte[] body = readLimited(ex.getRequestBody(), MAX_JSON_BODY);
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            if (n == null || n.isMissingNode()) {
                throw new IOException("empty body");
            }
            return n;
        } catch (IOException e) {
            throw ApiException.badRequest("We could not parse the JSON body of your request. (HINT: This likely means "
                    + "you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                    + "sent was not valid JSON.)", null, null);
        }
    }

    private static byte[] readLimited(InputStream in, int max) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int r;
        while ((r = in.read(buf)) >= 0) {
            bos.write(buf, 0, r);
            if (bos.size() > max) {
                throw new ApiException(413, "The request body is too large.", "invalid_request_error", null, null);
            }
        }
        return bos.toByteArray();
    }

    static Map<String, String> query(HttpExchange ex) {
        Map<String, String> out = new LinkedHashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decodeQuery(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decodeQuery(pair.substring(eq + 1));
            out.putIfAbsent(k, v);
        }
        return out;
    }

    private static int intParam(Map<String, String> q, String name, int def, int min, int max) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            return def;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("Invalid '" + name + "': expected an integer, but got '" + v + "'.", name,
                    "invalid_type");
        }
        if (n < min || n > max) {
            throw ApiException.badRequest("Invalid '" + name + "': must be between " + min + " and " + max
                    + ", but got " + n + ".", name, "invalid_value");
        }
        return (int) n;
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String decodeQuery(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    /** Decodes a path segment ('+' stays '+'). */
    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }
}
