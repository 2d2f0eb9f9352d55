package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(300)
class AuthAndFilesTest {

    static BatchSimulator sim;
    static SimHttp http;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test-secret-9876").stepDelay(Duration.ofMillis(5)).build().start();
        http = new SimHttp(sim);
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    @BeforeEach
    void reset() {
        sim.reset();
    }

    @Test
    void wrongKeyIs401WithMaskedKey() {
        SimHttp.Resp r = new SimHttp(sim.baseUrl(), "sk-wrong-key-abcd", false).get("/files");
        assertThat(r.status()).isEqualTo(401);
        JsonNode e = r.json().get("error");
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(e.get("param").isNull()).isTrue();
        assertThat(e.get("message").asText()).startsWith("Incorrect API key provided: ").contains("abcd")
                .doesNotContain("sk-wrong-key");
        assertThat(r.body()).doesNotContain("sk-test-secret");
    }

    @Test
    void missingKeyIs401() {
        SimHttp.Resp r = new SimHttp(sim.baseUrl(), null, false).get("/batches");
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
        SimHttp.Resp basic = http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/batches"))
                .header("Authorization", "Basic c2stdGVzdDo=").GET().build());
        assertThat(basic.status()).isEqualTo(401);
    }

    @Test
    void organizationAndProjectHeadersAreIgnored() {
        SimHttp.Resp r = http.send(http.request("/files").header("OpenAI-Organization", "org-x")
                .header("OpenAI-Project", "proj-y").GET().build());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-request-id")).startsWith("req_");
    }

    @Test
    void nullApiKeyAcceptsAnyKey() {
        try (BatchSimulator open = BatchSimulator.builder().build().start()) {
            assertThat(new SimHttp(open.baseUrl(), "anything", false).get("/files").status()).isEqualTo(200);
            assertThat(new SimHttp(open.baseUrl(), null, false).get("/files").status()).isEqualTo(200);
        }
    }

    @Test
    void uploadRetrieveContentDelete() {
        String text = SimHttp.calculations(3);
        long before = System.currentTimeMillis() / 1000;
        SimHttp.Resp up = http.uploadRaw("my input.jsonl", text.getBytes(StandardCharsets.UTF_8),
                Map.of("purpose", "batch"));
        long after = System.currentTimeMillis() / 1000;
        assertThat(up.status()).as(up.body()).isEqualTo(200);
        JsonNode f = up.json();
        assertThat(f.get("id").asText()).matches("file-[A-Za-z0-9]{22}");
        assertThat(f.get("object").asText()).isEqualTo("file");
        assertThat(f.get("bytes").asLong()).isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
        assertThat(f.get("filename").asText()).isEqualTo("my input.jsonl");
        assertThat(f.get("purpose").asText()).isEqualTo("batch");
        assertThat(f.get("status").asText()).isEqualTo("processed");
        long created = f.get("created_at").asLong();
        assertThat(created).as("the time of the upload, in seconds").isBetween(before, after);
        assertThat(f.get("expires_at").asLong()).isEqualTo(created + 30L * 24 * 3600);
        String id = f.get("id").asText();

        assertThat(http.get("/files/" + id).json()).isEqualTo(f);
        SimHttp.Resp content = http.get("/files/" + id + "/content");
        assertThat(content.body()).isEqualTo(text);
        assertThat(content.header("content-length")).isEqualTo(String.valueOf(f.get("bytes").asLong()));
        assertThat(sim.fileContent(id)).isEqualTo(text);

        SimHttp.Resp del = http.delete("/files/" + id);
        assertThat(del.json().get("id").asText()).isEqualTo(id);
        assertThat(del.json().get("object").asText()).isEqualTo("file");
        assertThat(del.json().get("deleted").asBoolean()).isTrue();
        for (SimHttp.Resp r : List.of(http.get("/files/" + id), http.get("/files/" + id + "/content"),
                http.delete("/files/" + id))) {
            assertThat(r.status()).isEqualTo(404);
            assertThat(r.json().at("/error/message").asText()).contains(id);
            assertThat(r.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
        }
        assertThat(sim.stats().filesStored()).isZero();
    }

    @Test
    void uploadValidation() {
        byte[] data = "{}\n".getBytes(StandardCharsets.UTF_8);
        assertThat(http.uploadRaw("x.jsonl", data, Map.of("purpose", "nonsense")).json().at("/error/param").asText())
                .isEqualTo("purpose");
        assertThat(http.uploadRaw("x.jsonl", data, Map.of()).json().at("/error/code").asText())
                .isEqualTo("missing_required_parameter");
        SimHttp.Resp txt = http.uploadRaw("x.txt", data, Map.of("purpose", "batch"));
        assertThat(txt.status()).isEqualTo(400);
        assertThat(txt.json().at("/error/message").asText()).contains(".jsonl");
        assertThat(http.uploadRaw("x.txt", data, Map.of("purpose", "user_data")).status()).isEqualTo(200);
        SimHttp.Resp expiring = http.uploadRaw("x.pdf", data, Map.of("purpose", "assistants",
                "expires_after[anchor]", "created_at", "expires_after[seconds]", "3600"));
        assertThat(expiring.json().get("expires_at").asLong())
                .isEqualTo(expiring.json().get("created_at").asLong() + 3600);
        assertThat(http.uploadRaw("x.pdf", data, Map.of("purpose", "assistants")).json().has("expires_at")).isFalse();
        assertThat(http.uploadRaw("x.pdf", data, Map.of("purpose", "assistants", "expires_after[anchor]",
                "created_at", "expires_after[seconds]", "10")).status()).isEqualTo(400);
        SimHttp.Resp notMultipart = http.send(http.request("/files").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build());
        assertThat(notMultipart.status()).isEqualTo(400);
        SimHttp.Resp noFile = http.send(http.request("/files").header("Content-Type", "multipart/form-data; boundary=b")
                .POST(HttpRequest.BodyPublishers.ofString("--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                        + "batch\r\n--b--\r\n")).build());
        assertThat(noFile.json().at("/error/param").asText()).isEqualTo("file");
        SimHttp.Resp truncated = http.send(http.request("/files").header("Content-Type",
                "multipart/form-data; boundary=b").POST(HttpRequest.BodyPublishers.ofString(
                        "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n{}\n")).build());
        assertThat(truncated.status()).isEqualTo(400);
        assertThat(sim.stats().filesStored()).isEqualTo(3);
    }

    @Test
    void binaryContentWithBoundaryLikeBytesSurvivesTheRoundTrip() {
        byte[] data = new byte[300_000];
        new java.util.Random(1).nextBytes(data);
        byte[] tricky = "\r\n--notTheBoundary\r\n--".getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(tricky, 0, data, 65_530, tricky.length); // straddles the parser's buffer edge
        SimHttp.Resp up = http.uploadRaw("blob.bin", data, Map.of("purpose", "user_data"));
        assertThat(up.status()).isEqualTo(200);
        assertThat(up.json().get("bytes").asLong()).isEqualTo(data.length);
        try {
            var raw = http.client.send(http.request("/files/" + up.json().get("id").asText() + "/content").GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(raw.body()).isEqualTo(data);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void listFilesWithPurposeOrderAndPagination() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(http.upload(SimHttp.calculations(1)));
        }
        String other = http.uploadRaw("n.txt", "x".getBytes(), Map.of("purpose", "user_data")).json().get("id").asText();

        JsonNode all = http.get("/files").json();
        assertThat(all.get("object").asText()).isEqualTo("list");
        assertThat(all.get("data")).hasSize(6);
        assertThat(all.get("has_more").asBoolean()).isFalse();
        assertThat(all.get("first_id").asText()).isEqualTo(other); // newest first by default
        JsonNode batchOnly = http.get("/files?purpose=batch&order=asc").json();
        List<String> asc = new ArrayList<>();
        batchOnly.get("data").forEach(f -> asc.add(f.get("id").asText()));
        assertThat(asc).containsExactlyElementsOf(ids);

        List<String> paged = new ArrayList<>();
        String after = null;
        int pages = 0;
        while (true) {
            JsonNode page = http.get("/files?purpose=batch&order=asc&limit=2" + (after == null ? "" : "&after=" + after))
                    .json();
            pages++;
            page.get("data").forEach(f -> paged.add(f.get("id").asText()));
            assertThat(page.get("first_id").asText()).isEqualTo(page.get("data").get(0).get("id").asText());
            if (!page.get("has_more").asBoolean()) {
                break;
            }
            after = page.get("last_id").asText();
        }
        assertThat(pages).isEqualTo(3);
        assertThat(paged).containsExactlyElementsOf(ids);
        assertThat(http.get("/files?limit=0").status()).isEqualTo(400);
        assertThat(http.get("/files?order=sideways").status()).isEqualTo(400);
        JsonNode empty = http.get("/files?purpose=vision").json();
        assertThat(empty.get("data")).isEmpty();
        assertThat(empty.get("has_more").asBoolean()).isFalse();
    }

    @Test
    void unknownRoutesAre404() {
        SimHttp.Resp r = http.get("/models");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().at("/error/message").asText()).contains("Invalid URL");
        assertThat(http.send(http.request("/batches/x").DELETE().build()).status()).isEqualTo(404);
        assertThat(sim.stats().calls("GET <unknown>")).isEqualTo(1);
    }
}
