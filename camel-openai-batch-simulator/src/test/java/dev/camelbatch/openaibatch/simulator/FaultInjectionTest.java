package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(300)
class FaultInjectionTest {

    static BatchSimulator sim;
    static SimHttp http;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-test").stepDelay(Duration.ofMillis(5)).build().start();
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
    void rateLimit429WithRetryAfter() {
        sim.faults().nextCalls("POST /v1/batches", 2, Fault.RATE_LIMIT_429);
        String fileId = http.upload(SimHttp.calculations(1)); // other routes unaffected
        for (int i = 0; i < 2; i++) {
            SimHttp.Resp r = http.createBatch(fileId, "/v1/chat/completions", null);
            assertThat(r.status()).isEqualTo(429);
            assertThat(r.header("retry-after")).isEqualTo("1");
            assertThat(r.header("retry-after-ms")).isEqualTo("1000");
            assertThat(r.json().at("/error/code").asText()).isEqualTo("rate_limit_exceeded");
            assertThat(r.json().at("/error/message").asText()).isNotBlank();
        }
        assertThat(http.createBatch(fileId, "/v1/chat/completions", null).status()).isEqualTo(200);
        assertThat(sim.stats().batchesCreated()).isEqualTo(1);
        assertThat(sim.stats().calls("POST /v1/batches")).isEqualTo(3);
        assertThat(sim.faults().injected()).containsEntry(Fault.RATE_LIMIT_429, 2L);
    }

    @Test
    void serverError500() {
        sim.faults().nextCalls("GET /v1/batches/*", 1, Fault.SERVER_ERROR_500);
        String id = http.submit(SimHttp.calculations(1), "/v1/chat/completions");
        SimHttp.Resp r = http.get("/batches/" + id);
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.json().at("/error/type").asText()).isEqualTo("server_error");
        assertThat(http.get("/batches/" + id).status()).isEqualTo(200);
        assertThat(http.get("/batches").status()).isEqualTo(200); // the pattern needs a segment after /batches
    }

    @Test
    void connectionResetClosesWithoutAnyResponse() throws IOException {
        sim.faults().nextCalls("GET /v1/files", 1, Fault.CONNECTION_RESET);
        RawResponse raw = raw("GET /v1/files");
        assertThat(raw.bytes).isEmpty();
        assertThat(http.get("/files").status()).isEqualTo(200);

        sim.faults().nextCalls("POST /v1/batches", 1, Fault.CONNECTION_RESET);
        String fileId = http.upload(SimHttp.calculations(1));
        assertThatThrownBy(() -> http.createBatch(fileId, "/v1/chat/completions", null))
                .isInstanceOf(UncheckedIOException.class);
        assertThat(sim.stats().batchesCreated()).isZero();
    }

    @Test
    void slowResponseIsHeldWhileLaterCallsAreAnswered() throws Exception {
        try (BatchSimulator own = BatchSimulator.builder().apiKey("sk-test").build().start()) {
            SimHttp h = new SimHttp(own);
            // far longer than the test: the held call can only end when the simulator is closed
            own.faults().slowResponseDelay(Duration.ofMinutes(10)).nextCalls("GET /v1/files", 1, Fault.SLOW_RESPONSE);
            CompletableFuture<HttpResponse<String>> held = h.client.sendAsync(h.request("/files").GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5))
                    .until(() -> own.faults().injected().getOrDefault(Fault.SLOW_RESPONSE, 0L) == 1L);

            // the next call of the same route is not delayed: it is answered while the first one is still held
            assertThat(h.get("/files").status()).isEqualTo(200);
            assertThat(own.stats().calls("GET /v1/files")).isEqualTo(2);
            assertThat(held).isNotDone();
            assertThat(own.faults().injected()).containsEntry(Fault.SLOW_RESPONSE, 1L);
            held.cancel(true);
        }
        // a delayed call is answered normally once its delay is over
        sim.faults().slowResponseDelay(Duration.ofMillis(50)).nextCalls("GET /v1/files", 1, Fault.SLOW_RESPONSE);
        SimHttp.Resp r = http.get("/files");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("object").asText()).isEqualTo("list");
        assertThat(sim.faults().injected()).containsEntry(Fault.SLOW_RESPONSE, 1L);
    }

    @Test
    void truncatedDownloadAnnouncesFullLengthButSendsPart() throws IOException {
        String content = SimHttp.calculations(200);
        String fileId = http.upload(content);
        int size = content.getBytes(StandardCharsets.UTF_8).length;
        sim.faults().nextCalls("GET /v1/files/*/content", 2, Fault.TRUNCATED_DOWNLOAD);
        assertThat(http.get("/files/" + fileId).status()).isEqualTo(200); // metadata route not matched

        RawResponse raw = raw("GET /v1/files/" + fileId + "/content");
        assertThat(raw.statusLine()).contains("200");
        assertThat(raw.header("content-length")).isEqualTo(String.valueOf(size));
        assertThat(raw.body().length).isGreaterThan(0).isLessThan(size);

        assertThatThrownBy(() -> http.get("/files/" + fileId + "/content")).isInstanceOf(UncheckedIOException.class);
        assertThat(http.content(fileId)).isEqualTo(content);
    }

    @Test
    void probabilityRulesAreSeededAndReproducible() {
        List<Integer> first = statuses(sim, 0.5);
        assertThat(first).contains(200, 500);
        sim.reset(); // resets the random sequence
        assertThat(statuses(sim, 0.5)).isEqualTo(first);
        try (BatchSimulator other = BatchSimulator.builder().apiKey("sk-test").seed(42L).build().start()) {
            assertThat(statuses(other, 0.5)).isEqualTo(first);
        }
        sim.faults().clear();
        sim.faults().probability("*", 1.0, Fault.SERVER_ERROR_500);
        assertThat(http.get("/batches").status()).isEqualTo(500);
        assertThat(http.get("/files").status()).isEqualTo(500);
        sim.faults().clear();
        sim.faults().probability("*", 0.0, Fault.SERVER_ERROR_500);
        assertThat(http.get("/files").status()).isEqualTo(200);
    }

    private static List<Integer> statuses(BatchSimulator s, double p) {
        s.faults().probability("GET /v1/files", p, Fault.SERVER_ERROR_500);
        SimHttp h = new SimHttp(s);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            out.add(h.get("/files").status());
        }
        return out;
    }

    @Test
    void patternsMatchSegmentsAndTemplates() {
        assertThat(FaultInjector.compile("GET /v1/files/*/content").matcher("GET /v1/files/file-abc/content").matches())
                .isTrue();
        assertThat(FaultInjector.compile("GET /v1/files/{id}/content").matcher("GET /v1/files/f/content").matches())
                .isTrue();
        assertThat(FaultInjector.compile("GET /v1/files/*").matcher("GET /v1/files/f/content").matches()).isFalse();
        assertThat(FaultInjector.compile("* /v1/batches").matcher("POST /v1/batches").matches()).isTrue();
        assertThat(FaultInjector.compile("/v1/batches").matcher("GET /v1/batches").matches()).isTrue();
        assertThat(FaultInjector.compile("GET /openai/batches").matcher("GET /v1/batches").matches()).isTrue();
        assertThat(FaultInjector.compile("*").matcher("DELETE /v1/files/x").matches()).isTrue();
        assertThat(FaultInjector.compile("post /v1/batches").matcher("POST /v1/batches").matches()).isTrue();
    }

    @Test
    void adminRoutesAreNeverFaulted() {
        sim.faults().probability("*", 1.0, Fault.CONNECTION_RESET);
        SimHttp admin = new SimHttp(sim.rootUrl(), null, false);
        assertThat(admin.get("/__simulator/stats").status()).isEqualTo(200);
        assertThat(admin.postJson("/__simulator/reset", "").status()).isEqualTo(200);
        assertThat(http.get("/files").status()).isEqualTo(200); // reset cleared the rule
    }

    // ------------------------------------------------------------------ raw HTTP

    record RawResponse(byte[] bytes) {
        String text() {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }

        String statusLine() {
            return text().split("\r\n", 2)[0];
        }

        String header(String name) {
            for (String line : text().split("\r\n\r\n", 2)[0].split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }

        byte[] body() {
            String t = text();
            int idx = t.indexOf("\r\n\r\n");
            return t.substring(idx + 4).getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    /** Sends one request on a fresh socket and reads until the server closes it. */
    static RawResponse raw(String requestLine) throws IOException {
        try (Socket s = new Socket("127.0.0.1", sim.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write((requestLine + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-test\r\n"
                    + "Connection: keep-alive\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                int r;
                while ((r = in.read(buf)) >= 0) {
                    bos.write(buf, 0, r);
                }
            } catch (SocketException reset) {
                // a reset is as good as a close here
            }
            return new RawResponse(bos.toByteArray());
        }
    }
}
