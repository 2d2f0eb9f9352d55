package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** A small OpenAI Files/Batch client on java.net.http for the tests. */
final class SimHttp {

    static final ObjectMapper JSON = new ObjectMapper();

    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    final String baseUrl;
    final String apiKey;
    final boolean azure;

    SimHttp(BatchSimulator sim) {
        this(sim.baseUrl(), sim.apiKey(), sim.azureMode());
    }

    SimHttp(String baseUrl, String apiKey, boolean azure) {
        this.baseUrl = baseUrl;
        this.apiKey = apiKey;
        this.azure = azure;
    }

    /** A parsed response. */
    record Resp(int status, JsonNode json, String body, HttpResponse<String> raw) {
        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }
    }

    String url(String path) {
        String u = baseUrl + path;
        if (azure) {
            u += (u.contains("?") ? "&" : "?") + "api-version=2024-10-21";
        }
        return u;
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30));
        if (apiKey != null) {
            if (azure) {
                b.header("api-key", apiKey);
            } else {
                b.header("Authorization", "Bearer " + apiKey);
            }
        }
        return b;
    }

    Resp send(HttpRequest req) {
        try {
            HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            try {
                json = r.body().isEmpty() ? null : JSON.readTree(r.body());
            } catch (IOException notJson) {
                // content downloads are JSONL
            }
            return new Resp(r.statusCode(), json, r.body(), r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Resp get(String path) {
        return send(request(path).GET().build());
    }

    Resp delete(String path) {
        return send(request(path).DELETE().build());
    }

    Resp postJson(String path, Object body) {
        try {
            String text = body instanceof String s ? s : JSON.writeValueAsString(body);
            return send(request(path).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(text)).build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Multipart body with a file part and text fields. */
    static byte[] multipart(String boundary, String filename, byte[] content, Map<String, String> fields) {
        StringBuilder head = new StringBuilder();
        fields.forEach((k, v) -> head.append("--").append(boundary).append("\r\n")
                .append("Content-Disposition: form-data; name=\"").append(k).append("\"\r\n\r\n").append(v)
                .append("\r\n"));
        head.append("--").append(boundary).append("\r\n").append("Content-Disposition: form-data; name=\"file\"; ")
                .append("filename=\"").append(filename).append("\"\r\n")
                .append("Content-Type: application/octet-stream\r\n\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.UTF_8);
        byte[] t = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[h.length + content.length + t.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(content, 0, all, h.length, content.length);
        System.arraycopy(t, 0, all, h.length + content.length, t.length);
        return all;
    }

    Resp uploadRaw(String filename, byte[] content, Map<String, String> fields) {
        String boundary = "----sim" + UUID.randomUUID().toString().replace("-", "");
        return send(request("/files").header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart(boundary, filename, content, fields))).build());
    }

    /** Uploads a batch input file and returns its id. */
    String upload(String jsonl) {
        Resp r = uploadRaw("input.jsonl", jsonl.getBytes(StandardCharsets.UTF_8), Map.of("purpose", "batch"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("id").asText();
    }

    Resp createBatch(String fileId, String endpoint, Map<String, String> metadata) {
        ObjectNode body = JSON.createObjectNode();
        body.put("input_file_id", fileId);
        body.put("endpoint", endpoint);
        body.put("completion_window", "24h");
        if (metadata != null) {
            ObjectNode m = body.putObject("metadata");
            metadata.forEach(m::put);
        }
        return postJson("/batches", body);
    }

    /** Uploads and creates a batch; returns the batch id. */
    String submit(String jsonl, String endpoint) {
        Resp r = createBatch(upload(jsonl), endpoint, null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("id").asText();
    }

    JsonNode batch(String id) {
        Resp r = get("/batches/" + id);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    /** Polls until the batch is in one of the statuses; returns it. */
    JsonNode awaitStatus(String id, String... statuses) {
        Set<String> wanted = Set.of(statuses);
        JsonNode[] last = new JsonNode[1];
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> {
            last[0] = batch(id);
            return wanted.contains(last[0].get("status").asText());
        });
        return last[0];
    }

    String content(String fileId) {
        Resp r = get("/files/" + fileId + "/content");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    List<JsonNode> jsonl(String fileId) {
        List<JsonNode> out = new ArrayList<>();
        for (String line : content(fileId).split("\n")) {
            if (!line.isBlank()) {
                try {
                    out.add(JSON.readTree(line));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ input builders

    static String chatLine(String customId, String model, String content) {
        ObjectNode line = JSON.createObjectNode();
        line.put("custom_id", customId);
        line.put("method", "POST");
        line.put("url", "/v1/chat/completions");
        ObjectNode body = line.putObject("body");
        body.put("model", model);
        ObjectNode msg = body.putArray("messages").addObject();
        msg.put("role", "user");
        msg.put("content", content);
        return line.toString();
    }

    /** n chat lines "Calculate: 1 + i = " with custom ids req-i. */
    static String calculations(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            sb.append(chatLine("req-" + i, "gpt-4o-mini", "Calculate: 1 + " + i + " = ")).append('\n');
        }
        return sb.toString();
    }
}
