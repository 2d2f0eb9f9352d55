package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static dev.camelbatch.openaibatch.api.StubServer.batchJson;
import static dev.camelbatch.openaibatch.api.StubServer.bytes;
import static dev.camelbatch.openaibatch.api.StubServer.delayed;
import static dev.camelbatch.openaibatch.api.StubServer.dropConnection;
import static dev.camelbatch.openaibatch.api.StubServer.error;
import static dev.camelbatch.openaibatch.api.StubServer.fileJson;
import static dev.camelbatch.openaibatch.api.StubServer.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Wire-level tests of {@link OpenAIBatchClient} against scripted loopback servers. */
@Timeout(300)
class OpenAIBatchClientWireTest {

    private static final String KEY = "sk-test-wire-0123456789";

    @TempDir
    Path tmp;

    private StubServer stub;
    /** The client's waits before retries: recorded, not slept (time passes only by them). */
    private RecordedWaits waits;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        stub = new StubServer();
        waits = new RecordedWaits();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        stub.close();
    }

    private OpenAIBatchClient client(String baseUrl, Consumer<OpenAIClientConfig.Builder> custom) {
        OpenAIClientConfig.Builder b = OpenAIClientConfig.builder()
                .baseUrl(baseUrl)
                .apiKey(KEY)
                .connectTimeout(Duration.ofSeconds(2))
                .responseTimeout(Duration.ofSeconds(5))
                .retryPolicy(RetryPolicy.builder().maxAttempts(4).initialDelay(Duration.ofMillis(10))
                        .maxDelay(Duration.ofSeconds(5)).jitter(0).build());
        custom.accept(b);
        OpenAIBatchClient c = new OpenAIBatchClient(b.build(), waits);
        toClose.add(c);
        return c;
    }

    private OpenAIBatchClient client() {
        return client(stub.baseUrl(), b -> { });
    }

    // ------------------------------------------------------------------------------------ headers

    @Test
    void sendsBearerKeyOrganizationProjectUserAgentAndAccept() {
        stub.on("GET /v1/batches/batch_1", json(200, batchJson("batch_1", "in_progress"), "x-request-id", "req_1"));
        OpenAIBatchClient c = client(stub.baseUrl(), b -> b.organization("org-1").project("proj_1")
                .userAgent("my-agent/1.0"));

        Batch batch = c.retrieveBatch("batch_1");

        assertThat(batch.getId()).isEqualTo("batch_1");
        assertThat(batch.batchStatus()).isEqualTo(BatchStatus.IN_PROGRESS);
        StubServer.Recorded r = stub.requests().get(0);
        assertThat(r.header("Authorization")).isEqualTo("Bearer " + KEY);
        assertThat(r.header("api-key")).isNull();
        assertThat(r.header("OpenAI-Organization")).isEqualTo("org-1");
        assertThat(r.header("OpenAI-Project")).isEqualTo("proj_1");
        assertThat(r.header("User-Agent")).isEqualTo("my-agent/1.0");
        assertThat(r.header("Accept")).isEqualTo("application/json");
        assertThat(r.uri.getRawQuery()).isNull();
    }

    @Test
    void noOrganizationOrProjectHeadersWhenUnset() {
        stub.on("GET /v1/batches/batch_1", json(200, batchJson("batch_1", "completed")));
        client().retrieveBatch("batch_1");
        StubServer.Recorded r = stub.requests().get(0);
        assertThat(r.header("OpenAI-Organization")).isNull();
        assertThat(r.header("OpenAI-Project")).isNull();
        assertThat(r.header("User-Agent")).startsWith("camel-openai-batch/");
    }

    @Test
    void azureModeUsesApiKeyHeaderAndApiVersionOnEveryCall() throws IOException {
        String base = "http://127.0.0.1:" + stub.port() + "/openai";
        stub.on("POST /openai/files", json(200, fileJson("file-1", "in.jsonl", 3)));
        stub.on("GET /openai/files", json(200, "{\"object\":\"list\",\"data\":[],\"has_more\":false}"));
        stub.on("POST /openai/batches", json(200, batchJson("batch_1", "validating")));
        stub.on("GET /openai/batches", json(200, "{\"object\":\"list\",\"data\":[],\"has_more\":false}"));
        stub.on("GET /openai/batches/batch_1", json(200, batchJson("batch_1", "validating")));
        stub.on("POST /openai/batches/batch_1/cancel", json(200, batchJson("batch_1", "cancelling")));
        stub.on("GET /openai/files/file-1/content", bytes(200, "x\n".getBytes(StandardCharsets.UTF_8),
                "application/octet-stream"));
        stub.on("DELETE /openai/files/file-1", json(200, "{\"id\":\"file-1\",\"object\":\"file\",\"deleted\":true}"));
        OpenAIBatchClient c = client(base, b -> b.azure(true).azureApiVersion("2024-10-21"));
        Path f = Files.writeString(tmp.resolve("in.jsonl"), "{}\n");

        c.uploadFile(f, null, "batch", null);
        c.listFiles("batch", null, 10, "asc");
        c.createBatch(CreateBatchRequest.builder().inputFileId("file-1")
                .endpoint(OpenAIBatchClient.azureEndpointValue("/v1/chat/completions", "2024-10-21")).build());
        c.listBatches("batch_0", 5);
        c.retrieveBatch("batch_1");
        c.cancelBatch("batch_1");
        try (InputStream in = c.downloadFileContent("file-1")) {
            assertThat(in.readAllBytes()).hasSize(2);
        }
        assertThat(c.deleteFile("file-1").isDeleted()).isTrue();

        List<StubServer.Recorded> all = stub.requests();
        assertThat(all).hasSize(8);
        for (StubServer.Recorded r : all) {
            assertThat(r.header("api-key")).as(r.method + " " + r.uri).isEqualTo(KEY);
            assertThat(r.header("Authorization")).as(r.method + " " + r.uri).isNull();
            assertThat(r.uri.getRawQuery()).as(r.method + " " + r.uri).contains("api-version=2024-10-21");
        }
        assertThat(all.get(1).uri.getRawQuery()).contains("purpose=batch", "limit=10", "order=asc");
        assertThat(all.get(3).uri.getRawQuery()).contains("after=batch_0", "limit=5");
        JsonNode created = OpenAIJson.mapper().readTree(all.get(2).body);
        assertThat(created.get("endpoint").asText()).isEqualTo("/chat/completions");
    }

    @Test
    void azureV1ApiWithoutApiVersionSendsNoQuery() {
        String base = "http://127.0.0.1:" + stub.port() + "/openai/v1";
        stub.on("GET /openai/v1/batches/batch_1", json(200, batchJson("batch_1", "completed")));
        client(base, b -> b.azure(true)).retrieveBatch("batch_1");
        StubServer.Recorded r = stub.requests().get(0);
        assertThat(r.uri.getRawQuery()).isNull();
        assertThat(r.header("api-key")).isEqualTo(KEY);
    }

    @Test
    void azureEndpointValueRule() {
        assertThat(OpenAIBatchClient.azureEndpointValue("/v1/chat/completions", "2024-10-21"))
                .isEqualTo("/chat/completions");
        assertThat(OpenAIBatchClient.azureEndpointValue("/v1/embeddings", "2025-04-01-preview"))
                .isEqualTo("/embeddings");
        assertThat(OpenAIBatchClient.azureEndpointValue("/chat/completions", "2024-10-21"))
                .isEqualTo("/chat/completions");
        assertThat(OpenAIBatchClient.azureEndpointValue("/v1/chat/completions", null))
                .isEqualTo("/v1/chat/completions");
        assertThat(OpenAIBatchClient.azureEndpointValue("/chat/completions", "v1"))
                .isEqualTo("/v1/chat/completions");
        assertThat(OpenAIBatchClient.azureEndpointValue("responses", "preview")).isEqualTo("/v1/responses");
    }

    // ------------------------------------------------------------------------------------ upload

    @Test
    void uploadIsMultipartWithPurposeExpiryAndFileStreamedWithContentLength() throws IOException {
        stub.on("POST /v1/files", json(200, fileJson("file-abc", "requests.jsonl", 42)));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            sb.append("{\"custom_id\":\"r").append(i).append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                    + "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"héllo\"}]}}\n");
        }
        byte[] content = sb.toString().getBytes(StandardCharsets.UTF_8);
        Path f = Files.write(tmp.resolve("local-name.jsonl"), content);

        OpenAIFile file = client().uploadFile(f, "requests.jsonl", "batch", 7200L);

        assertThat(file.getId()).isEqualTo("file-abc");
        assertThat(file.getBytes()).isEqualTo(42L);
        StubServer.Recorded r = stub.requests().get(0);
        assertThat(r.header("Content-Type")).matches("multipart/form-data; boundary=[^;]+");
        assertThat(r.header("Transfer-Encoding")).isNull();
        assertThat(r.header("Content-Length")).isEqualTo(String.valueOf(r.body.length));
        Map<String, Multipart.Part> parts = Multipart.parse(r.header("Content-Type"), r.body);
        assertThat(parts.keySet()).containsExactly("purpose", "expires_after[anchor]", "expires_after[seconds]",
                "file");
        assertThat(parts.get("purpose").text()).isEqualTo("batch");
        assertThat(parts.get("purpose").headers).containsOnlyKeys("content-disposition");
        assertThat(parts.get("file").headers.get("content-type")).isEqualTo("application/octet-stream");
        assertThat(parts.get("expires_after[anchor]").text()).isEqualTo("created_at");
        assertThat(parts.get("expires_after[seconds]").text()).isEqualTo("7200");
        assertThat(parts.get("file").filename).isEqualTo("requests.jsonl");
        assertThat(parts.get("file").content).isEqualTo(content);
    }

    @Test
    void uploadWithoutExpiryUsesPathFileNameAndIsRetriedFromTheFile() throws IOException {
        stub.on("POST /v1/files", error(429, "requests", null, "slow down"),
                error(408, "timeout", null, "request timeout"),
                json(200, fileJson("file-abc", "in.jsonl", 6)));
        Path f = Files.writeString(tmp.resolve("in.jsonl"), "{\"a\":1}\n");

        OpenAIFile file = client().uploadFile(f, null, "batch", null);

        assertThat(file.getId()).isEqualTo("file-abc");
        List<StubServer.Recorded> calls = stub.requests("POST /v1/files");
        assertThat(calls).hasSize(3);
        for (StubServer.Recorded r : calls) {
            Map<String, Multipart.Part> parts = Multipart.parse(r.header("Content-Type"), r.body);
            assertThat(parts.keySet()).containsExactly("purpose", "file");
            assertThat(parts.get("file").filename).isEqualTo("in.jsonl");
            assertThat(new String(parts.get("file").content, StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}\n");
        }
    }

    @Test
    void uploadFileNameIsUtf8AndCannotBreakTheHeader() throws IOException {
        stub.on("POST /v1/files", json(200, fileJson("file-abc", "x", 1)));
        Path f = Files.writeString(tmp.resolve("in.jsonl"), "{}\n");
        client().uploadFile(f, "r\u00e9q\"uest\r\n.jsonl", "batch", null);
        StubServer.Recorded r = stub.requests().get(0);
        Map<String, Multipart.Part> parts = Multipart.parse(r.header("Content-Type"), r.body);
        assertThat(parts.get("file").filename).isEqualTo("r\u00e9q_uest__.jsonl");
    }

    @Test
    void uploadOfMissingFileFailsWithoutCall() {
        assertThatThrownBy(() -> client().uploadFile(tmp.resolve("nope.jsonl"), null, "batch", null))
                .isInstanceOf(java.io.UncheckedIOException.class);
        assertThat(stub.requests()).isEmpty();
    }

    // ------------------------------------------------------------------------------------ retries

    @Test
    void retryAfterSecondsIsHonoured() {
        stub.on("GET /v1/batches/b", error(429, "requests", "rate_limit_exceeded", "slow down", "Retry-After", "1"),
                json(200, batchJson("b", "completed")));

        client().retrieveBatch("b");

        assertThat(stub.requests()).hasSize(2);
        assertThat(waits.millis()).as("the wait before the retry").containsExactly(1_000L);
    }

    @Test
    void retryAfterHttpDateIsHonoured() {
        // the date is read against the client's clock: two seconds after its current time
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.withLocale(Locale.US)
                .format(ZonedDateTime.ofInstant(waits.start(), ZoneOffset.UTC).plusSeconds(2));
        stub.on("GET /v1/batches/b", error(503, "server_error", null, "later", "Retry-After", date),
                json(200, batchJson("b", "completed")));

        client().retrieveBatch("b");

        assertThat(stub.requests()).hasSize(2);
        assertThat(waits.millis()).containsExactly(2_000L);
    }

    @Test
    void retryAfterMsWinsOverRetryAfter() {
        stub.on("GET /v1/batches/b",
                error(429, "requests", "rate_limit_exceeded", "slow", "retry-after-ms", "400", "Retry-After", "30"),
                json(200, batchJson("b", "completed")));

        client().retrieveBatch("b");

        assertThat(stub.requests()).hasSize(2);
        assertThat(waits.millis()).as("retry-after-ms, not Retry-After's 30 s").containsExactly(400L);
    }

    @Test
    void retryAfterIsCappedByMaxDelay() {
        stub.on("GET /v1/batches/b", error(429, "requests", null, "slow", "Retry-After", "120"),
                json(200, batchJson("b", "completed")));
        client(stub.baseUrl(), b -> b.retryPolicy(RetryPolicy.builder().initialDelay(Duration.ofMillis(10))
                .maxDelay(Duration.ofMillis(300)).jitter(0).build())).retrieveBatch("b");
        assertThat(stub.requests()).hasSize(2);
        assertThat(waits.millis()).as("Retry-After: 120 capped by maxDelay").containsExactly(300L);
    }

    @Test
    void badRequestIsNotRetriedAndCarriesTheErrorFields() {
        stub.on("POST /v1/batches", json(400, "{\"error\":{\"message\":\"Invalid endpoint\",\"type\":"
                + "\"invalid_request_error\",\"param\":\"endpoint\",\"code\":\"invalid_value\"}}",
                "x-request-id", "req_400"));

        assertThatThrownBy(() -> client().createBatch(CreateBatchRequest.builder().inputFileId("file-1")
                .endpoint("/v1/nope").build()))
                .isExactlyInstanceOf(OpenAIApiException.class)
                .satisfies(t -> {
                    OpenAIApiException e = (OpenAIApiException) t;
                    assertThat(e.getHttpStatus()).isEqualTo(400);
                    assertThat(e.getType()).isEqualTo("invalid_request_error");
                    assertThat(e.getCode()).isEqualTo("invalid_value");
                    assertThat(e.getParam()).isEqualTo("endpoint");
                    assertThat(e.getApiMessage()).isEqualTo("Invalid endpoint");
                    assertThat(e.getRequestId()).isEqualTo("req_400");
                    assertThat(e.isRetryable()).isFalse();
                    assertThat(e.getMessage()).contains("400", "Invalid endpoint", "req_400");
                });
        assertThat(stub.requests()).hasSize(1);
    }

    @Test
    void clientErrorsMapToSpecificExceptionsAndAreNotRetried() {
        stub.on("GET /v1/batches/b401", error(401, "invalid_request_error", "invalid_api_key", "Incorrect key"));
        stub.on("GET /v1/batches/b403", error(403, "invalid_request_error", "unsupported_country", "nope"));
        stub.on("GET /v1/batches/b404", error(404, "invalid_request_error", null, "No batch found"));
        stub.on("GET /v1/batches/b409", error(409, "invalid_request_error", null, "conflict"));
        stub.on("GET /v1/batches/b422", error(422, "invalid_request_error", null, "unprocessable"));
        OpenAIBatchClient c = client();

        assertThatThrownBy(() -> c.retrieveBatch("b401")).isInstanceOf(OpenAIAuthenticationException.class);
        assertThatThrownBy(() -> c.retrieveBatch("b403")).isInstanceOf(OpenAIAuthenticationException.class);
        assertThatThrownBy(() -> c.retrieveBatch("b404")).isInstanceOf(OpenAINotFoundException.class);
        assertThatThrownBy(() -> c.retrieveBatch("b409")).isExactlyInstanceOf(OpenAIApiException.class)
                .extracting("httpStatus").isEqualTo(409);
        assertThatThrownBy(() -> c.retrieveBatch("b422")).isExactlyInstanceOf(OpenAIApiException.class);
        assertThat(stub.requests()).hasSize(5);
    }

    @Test
    void serverErrorsAreRetriedUpToMaxAttempts() {
        stub.on("GET /v1/files/f", error(500, "server_error", null, "boom", "x-request-id", "req_500"));

        assertThatThrownBy(() -> client().retrieveFile("f"))
                .isExactlyInstanceOf(OpenAIApiException.class)
                .satisfies(t -> assertThat(((OpenAIApiException) t).getRequestId()).isEqualTo("req_500"));
        assertThat(stub.requests()).hasSize(4);
        // exponential backoff without jitter: 10 ms, then x2
        assertThat(waits.millis()).containsExactly(10L, 20L, 40L);
    }

    @Test
    void rateLimitExhaustedThrowsRateLimitExceptionWithRetryAfter() {
        stub.on("GET /v1/files/f", error(429, "requests", "rate_limit_exceeded", "slow", "Retry-After", "0"));

        assertThatThrownBy(() -> client(stub.baseUrl(), b -> b.retryPolicy(RetryPolicy.builder().maxAttempts(2)
                .initialDelay(Duration.ofMillis(1)).build())).retrieveFile("f"))
                .isInstanceOf(OpenAIRateLimitException.class)
                .satisfies(t -> assertThat(((OpenAIRateLimitException) t).getRetryAfter()).isEqualTo(Duration.ZERO));
        assertThat(stub.requests()).hasSize(2);
    }

    @Test
    void maxTotalTimeBoundsTheRetries() {
        stub.on("GET /v1/files/f", error(503, "server_error", null, "busy"));
        assertThatThrownBy(() -> client(stub.baseUrl(), b -> b.retryPolicy(RetryPolicy.builder().maxAttempts(100)
                .initialDelay(Duration.ofMillis(100)).multiplier(1.0).jitter(0)
                .maxTotalTime(Duration.ofMillis(700)).build())).retrieveFile("f"))
                .isInstanceOf(OpenAIApiException.class);
        // time passes only by the waits: seven waits of 100 ms fill the 700 ms, an eighth would exceed them
        assertThat(waits.millis()).hasSize(7).containsOnly(100L);
        assertThat(stub.requests()).hasSize(8);
    }

    @Test
    void readIsRetriedAfterTheConnectionDropsWithoutResponse() {
        stub.on("GET /v1/batches/b", dropConnection(), json(200, batchJson("b", "completed")));
        assertThat(client().retrieveBatch("b").getStatus()).isEqualTo("completed");
        assertThat(stub.requests()).hasSize(2);
    }

    @Test
    void readIsRetriedAfterAResponseTimeout() {
        stub.on("GET /v1/batches/b", delayed(1_500, json(200, batchJson("b", "in_progress"))),
                json(200, batchJson("b", "completed")));
        Batch b = client(stub.baseUrl(), c -> c.responseTimeout(Duration.ofMillis(400))).retrieveBatch("b");
        assertThat(b.getStatus()).isEqualTo("completed");
    }

    @Test
    void connectionRefusedEndsInConnectionException() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        OpenAIBatchClient c = client("http://127.0.0.1:" + port + "/v1", b -> { });
        assertThatThrownBy(() -> c.retrieveBatch("b"))
                .isExactlyInstanceOf(OpenAIConnectionException.class)
                .hasMessageContaining("4 attempt(s)");
    }

    // ------------------------------------------------------------------------------------ createBatch

    @Test
    void createBatchSendsTheSpecBody() throws IOException {
        stub.on("POST /v1/batches", json(200, batchJson("batch_1", "validating")));
        Map<String, String> md = new LinkedHashMap<>();
        md.put("correlation", "abc");
        md.put("route", "r1");

        Batch b = client().createBatch(CreateBatchRequest.builder().inputFileId("file-1")
                .endpoint("/v1/chat/completions").metadata(md).outputExpiresAfterSeconds(86400L).build());

        assertThat(b.getId()).isEqualTo("batch_1");
        StubServer.Recorded r = stub.requests().get(0);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        JsonNode body = OpenAIJson.mapper().readTree(r.body);
        assertThat(body.get("input_file_id").asText()).isEqualTo("file-1");
        assertThat(body.get("endpoint").asText()).isEqualTo("/v1/chat/completions");
        assertThat(body.get("completion_window").asText()).isEqualTo("24h");
        assertThat(body.get("metadata").get("correlation").asText()).isEqualTo("abc");
        assertThat(body.get("output_expires_after").get("anchor").asText()).isEqualTo("created_at");
        assertThat(body.get("output_expires_after").get("seconds").asLong()).isEqualTo(86400L);
    }

    @Test
    void createBatchLeavesOutOptionalFields() throws IOException {
        stub.on("POST /v1/batches", json(200, batchJson("batch_1", "validating")));
        client().createBatch(CreateBatchRequest.builder().inputFileId("file-1").endpoint("/v1/embeddings").build());
        JsonNode body = OpenAIJson.mapper().readTree(stub.requests().get(0).body);
        assertThat(body.size()).isEqualTo(3);
        assertThat(body.has("metadata")).isFalse();
        assertThat(body.has("output_expires_after")).isFalse();
    }

    @Test
    void createBatchIsRetriedOn429ButA5xxIsOutcomeUnknown() {
        stub.on("POST /v1/batches", error(429, "requests", null, "slow"), json(200, batchJson("batch_1", "validating")),
                error(502, "server_error", null, "bad gw"), json(200, batchJson("batch_2", "validating")));
        Batch b = client().createBatch(CreateBatchRequest.builder().inputFileId("f").endpoint("/v1/responses")
                .build());
        assertThat(b.getId()).isEqualTo("batch_1");
        assertThat(stub.requests()).hasSize(2);

        assertThatThrownBy(() -> client().createBatch(CreateBatchRequest.builder().inputFileId("f")
                .endpoint("/v1/responses").build()))
                .isInstanceOf(BatchCreationOutcomeUnknownException.class)
                .hasMessageContaining("502");
        assertThat(stub.requests()).as("a 5xx may come after the batch was created: not sent again").hasSize(3);
    }

    @Test
    void uploadAnswered5xxIsOutcomeUnknownAndNotRepeated() throws IOException {
        stub.on("POST /v1/files", error(503, "server_error", null, "busy"),
                json(200, fileJson("file-abc", "in.jsonl", 6)));
        Path f = Files.writeString(tmp.resolve("in.jsonl"), "{\"a\":1}\n");
        assertThatThrownBy(() -> client().uploadFile(f, "named.jsonl", "batch", null))
                .isInstanceOf(UploadOutcomeUnknownException.class)
                .hasMessageContaining("named.jsonl");
        assertThat(stub.requests("POST /v1/files")).hasSize(1);
    }

    @Test
    void createBatchAfterResponseTimeoutIsOutcomeUnknownAndNotRetried() {
        stub.on("POST /v1/batches", delayed(1_500, json(200, batchJson("batch_1", "validating"))));
        CreateBatchRequest req = CreateBatchRequest.builder().inputFileId("f").endpoint("/v1/chat/completions")
                .putMetadata("k", "v").build();

        assertThatThrownBy(() -> client(stub.baseUrl(), b -> b.responseTimeout(Duration.ofMillis(300)))
                .createBatch(req))
                .isInstanceOf(BatchCreationOutcomeUnknownException.class)
                .satisfies(t -> assertThat(((BatchCreationOutcomeUnknownException) t).getRequest()).isSameAs(req));
        assertThat(stub.requests()).hasSize(1);
    }

    @Test
    void createBatchAfterConnectionDropIsOutcomeUnknownAndNotRetried() {
        stub.on("POST /v1/batches", dropConnection(), json(200, batchJson("batch_1", "validating")));
        assertThatThrownBy(() -> client().createBatch(CreateBatchRequest.builder().inputFileId("f")
                .endpoint("/v1/chat/completions").build()))
                .isInstanceOf(BatchCreationOutcomeUnknownException.class);
        assertThat(stub.requests()).hasSize(1);
    }

    @Test
    void createBatchAfterTcpResetIsOutcomeUnknownAndNotRetried() throws IOException {
        try (RawServer raw = new RawServer((i, socket, head) -> RawServer.writeThenReset(socket, ""))) {
            assertThatThrownBy(() -> client(raw.baseUrl(), b -> { }).createBatch(CreateBatchRequest.builder()
                    .inputFileId("f").endpoint("/v1/chat/completions").build()))
                    .isInstanceOf(BatchCreationOutcomeUnknownException.class);
            assertThat(raw.requests()).isEqualTo(1);
        }
    }

    @Test
    void createBatchWithTruncatedSuccessBodyIsOutcomeUnknown() throws IOException {
        try (RawServer raw = new RawServer((i, socket, head) -> RawServer.writeThenReset(socket,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\":\"batch_"))) {
            assertThatThrownBy(() -> client(raw.baseUrl(), b -> { }).createBatch(CreateBatchRequest.builder()
                    .inputFileId("f").endpoint("/v1/chat/completions").build()))
                    .isInstanceOf(BatchCreationOutcomeUnknownException.class)
                    .hasMessageContaining("200");
            assertThat(raw.requests()).isEqualTo(1);
        }
    }

    @Test
    void createBatchOnRefusedConnectionIsRetriedAndNotOutcomeUnknown() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> client("http://127.0.0.1:" + port + "/v1", b -> { })
                .createBatch(CreateBatchRequest.builder().inputFileId("f").endpoint("/v1/chat/completions").build()))
                .isExactlyInstanceOf(OpenAIConnectionException.class)
                .hasMessageContaining("4 attempt(s)");
    }

    @Test
    void createBatchValidatesMetadataBeforeSending() {
        OpenAIBatchClient c = client();
        CreateBatchRequest tooMany = new CreateBatchRequest();
        tooMany.setInputFileId("f");
        tooMany.setEndpoint("/v1/chat/completions");
        Map<String, String> md = new LinkedHashMap<>();
        for (int i = 0; i < 17; i++) {
            md.put("k" + i, "v");
        }
        tooMany.setMetadata(md);
        assertThatThrownBy(() -> c.createBatch(tooMany)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("17").hasMessageContaining("16");

        String longKey = "k".repeat(65);
        assertThatThrownBy(() -> CreateBatchRequest.builder().inputFileId("f").endpoint("/v1/chat/completions")
                .putMetadata(longKey, "v").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(longKey).hasMessageContaining("64");

        assertThatThrownBy(() -> CreateBatchRequest.builder().inputFileId("f").endpoint("/v1/chat/completions")
                .putMetadata("big", "v".repeat(513)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'big'")
                .hasMessageContaining("512");

        // the limits themselves are fine
        Map<String, String> ok = new LinkedHashMap<>();
        for (int i = 0; i < 16; i++) {
            ok.put(("k" + i + "x".repeat(64)).substring(0, 64), "v".repeat(512));
        }
        CreateBatchRequest.builder().inputFileId("f").endpoint("/v1/chat/completions").metadata(ok).build();
        assertThat(stub.requests()).isEmpty();
    }

    // ------------------------------------------------------------------------------------ download

    @Test
    void downloadReturnsTheExactBytes() throws IOException {
        byte[] content = new byte[300_000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i % 251);
        }
        stub.on("GET /v1/files/file-out/content", bytes(200, content, "application/octet-stream"));
        try (InputStream in = client().downloadFileContent("file-out")) {
            assertThat(in.readAllBytes()).isEqualTo(content);
        }
    }

    @Test
    void downloadIsRetriedBeforeTheBodyStarts() throws IOException {
        stub.on("GET /v1/files/f/content", error(503, "server_error", null, "busy"), dropConnection(),
                bytes(200, "ok\n".getBytes(StandardCharsets.UTF_8), "application/octet-stream"));
        try (InputStream in = client().downloadFileContent("f")) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("ok\n");
        }
        assertThat(stub.requests()).hasSize(3);
    }

    @Test
    void downloadOfUnknownFileIsNotFound() {
        stub.on("GET /v1/files/f/content", error(404, "invalid_request_error", null, "No such File object: f"));
        assertThatThrownBy(() -> client().downloadFileContent("f")).isInstanceOf(OpenAINotFoundException.class);
    }

    @Test
    void truncatedDownloadIsDetected() throws IOException {
        String body = "x".repeat(400);
        try (RawServer raw = new RawServer((i, socket, head) -> RawServer.writeThenReset(socket,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n" + body))) {
            OpenAIBatchClient c = client(raw.baseUrl(), b -> { });
            InputStream in = c.downloadFileContent("f");
            assertThatThrownBy(in::readAllBytes)
                    .isInstanceOf(TruncatedDownloadException.class)
                    .satisfies(t -> {
                        TruncatedDownloadException e = (TruncatedDownloadException) t;
                        assertThat(e.getExpectedBytes()).isEqualTo(1000);
                        assertThat(e.getReceivedBytes()).isLessThan(1000);
                    });
            in.close();
            assertThat(raw.requests()).isEqualTo(1);
        }
    }

    @Test
    void truncatedDownloadWithGracefulCloseIsDetected() throws IOException {
        try (RawServer raw = new RawServer((i, socket, head) -> {
            socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + "y".repeat(10))
                    .getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            socket.shutdownOutput();
        })) {
            try (InputStream in = client(raw.baseUrl(), b -> { }).downloadFileContent("f")) {
                assertThatThrownBy(in::readAllBytes).isInstanceOf(TruncatedDownloadException.class)
                        .hasMessageContaining("100");
            }
        }
    }

    @Test
    void closingADownloadEarlyReleasesTheConnection() throws IOException {
        byte[] big = new byte[5_000_000];
        stub.on("GET /v1/files/f/content", bytes(200, big, "application/octet-stream"));
        stub.on("GET /v1/batches/b", json(200, batchJson("b", "completed")));
        OpenAIBatchClient c = client(stub.baseUrl(), b -> b.maxConnections(1));
        for (int i = 0; i < 3; i++) {
            try (InputStream in = c.downloadFileContent("f")) {
                assertThat(in.read(new byte[1000])).isPositive();
            }
        }
        assertThat(c.retrieveBatch("b").getId()).isEqualTo("b");
    }

    // ------------------------------------------------------------------------------------ lists

    @Test
    void iterateBatchesFollowsTheCursorLazily() {
        stub.on("GET /v1/batches",
                json(200, "{\"object\":\"list\",\"data\":[" + batchJson("b5", "completed") + ","
                        + batchJson("b4", "completed") + "],\"first_id\":\"b5\",\"last_id\":\"b4\",\"has_more\":true}"),
                json(200, "{\"object\":\"list\",\"data\":[" + batchJson("b3", "failed") + ","
                        + batchJson("b2", "expired") + "],\"first_id\":\"b3\",\"last_id\":\"b2\",\"has_more\":true}"),
                json(200, "{\"object\":\"list\",\"data\":[" + batchJson("b1", "cancelled")
                        + "],\"first_id\":\"b1\",\"last_id\":\"b1\",\"has_more\":false}"));
        Iterator<Batch> it = client().iterateBatches(2);
        assertThat(stub.requests()).isEmpty();
        List<String> ids = new ArrayList<>();
        it.forEachRemaining(b -> ids.add(b.getId()));
        assertThat(ids).containsExactly("b5", "b4", "b3", "b2", "b1");
        List<StubServer.Recorded> calls = stub.requests();
        assertThat(calls).hasSize(3);
        assertThat(calls.get(0).uri.getRawQuery()).isEqualTo("limit=2");
        assertThat(calls.get(1).uri.getRawQuery()).isEqualTo("after=b4&limit=2");
        assertThat(calls.get(2).uri.getRawQuery()).isEqualTo("after=b2&limit=2");
    }

    @Test
    void iterateFilesPassesPurposeAndOrderAndUsesLastItemWhenLastIdMissing() {
        stub.on("GET /v1/files",
                json(200, "{\"object\":\"list\",\"data\":[" + fileJson("f1", "a", 1) + "," + fileJson("f2", "b", 2)
                        + "],\"has_more\":true}"),
                json(200, "{\"object\":\"list\",\"data\":[" + fileJson("f3", "c", 3) + "],\"has_more\":false}"));
        List<String> ids = new ArrayList<>();
        client().iterateFiles("batch_output", "asc").forEachRemaining(f -> ids.add(f.getId()));
        assertThat(ids).containsExactly("f1", "f2", "f3");
        List<StubServer.Recorded> calls = stub.requests();
        assertThat(calls.get(0).uri.getRawQuery()).isEqualTo("purpose=batch_output&order=asc");
        assertThat(calls.get(1).uri.getRawQuery()).isEqualTo("purpose=batch_output&after=f2&order=asc");
    }

    @Test
    void emptyListEndsIteration() {
        stub.on("GET /v1/batches", json(200, "{\"object\":\"list\",\"data\":[],\"has_more\":true}"));
        assertThat(client().iterateBatches(null).hasNext()).isFalse();
        assertThat(stub.requests()).hasSize(1);
    }

    @Test
    void idsThatCouldChangeThePathAreRefusedBeforeAnyRequest() throws IOException {
        OpenAIBatchClient c = client();
        for (String bad : new String[] { "..", "a/b", "%2e%2e", "", " ", "a b", "../files", "batch_1?x=1", "b#1",
                "b\\1", "f.jsonl" }) {
            assertThatThrownBy(() -> c.retrieveBatch(bad)).as("batch id '%s'", bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchId");
            assertThatThrownBy(() -> c.cancelBatch(bad)).as("batch id '%s'", bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchId");
            assertThatThrownBy(() -> c.retrieveFile(bad)).as("file id '%s'", bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fileId");
            assertThatThrownBy(() -> c.deleteFile(bad)).as("file id '%s'", bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fileId");
            assertThatThrownBy(() -> c.downloadFileContent(bad)).as("file id '%s'", bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fileId");
        }
        assertThatThrownBy(() -> c.retrieveBatch(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batchId");
        assertThat(stub.requests()).as("nothing was sent").isEmpty();
    }

    @Test
    void idsOfOpenAIAzureAndTheSimulatorPass() throws IOException {
        // OpenAI (file-abc123, batch_abc123), Azure (file- with a hex or dashed GUID, batch_ with a GUID), simulator
        String[] files = { "file-abc123", "file-HOWS94cvaTdG", "file-8c8e2f5d6a7b4c3d9e0f1a2b3c4d5e6f",
                "file-8c8e2f5d-6a7b-4c3d-9e0f-1a2b3c4d5e6f", "f" };
        String[] batches = { "batch_abc123", "batch_0123456789abcdef0123456789abcdef",
                "batch_6a2d4e1f-8e4b-4c2c-9d8f-1a2b3c4d5e6f", "b" };
        for (String id : batches) {
            stub.on("GET /v1/batches/" + id, json(200, batchJson(id, "completed")));
            assertThat(client().retrieveBatch(id).getId()).isEqualTo(id);
        }
        for (String id : files) {
            stub.on("GET /v1/files/" + id, json(200, fileJson(id, "in.jsonl", 3)));
            assertThat(client().retrieveFile(id).getId()).isEqualTo(id);
        }
        assertThat(stub.requests()).extracting(r -> r.uri.getRawPath()).contains("/v1/batches/batch_abc123",
                "/v1/files/file-8c8e2f5d-6a7b-4c3d-9e0f-1a2b3c4d5e6f");
    }

    @Test
    void nonJsonErrorBodyIsSummarised() {
        stub.on("GET /v1/batches/b", bytes(502, "<html><body>Bad gateway</body></html>".getBytes(StandardCharsets.UTF_8),
                "text/html"));
        assertThatThrownBy(() -> client(stub.baseUrl(), b -> b.retryPolicy(RetryPolicy.none())).retrieveBatch("b"))
                .isInstanceOf(OpenAIApiException.class).hasMessageContaining("502").hasMessageContaining("Bad gateway");
    }

    // ------------------------------------------------------------------------------------ proxy

    @Test
    void requestsGoThroughTheConfiguredProxy() {
        // the stub plays an HTTP proxy: it receives the absolute URI of a host that does not resolve
        stub.on("GET /v1/batches/b", json(200, batchJson("b", "completed")));
        OpenAIBatchClient c = client("http://api.openai.invalid/v1", b -> b.proxy("127.0.0.1", stub.port()));
        assertThat(c.retrieveBatch("b").getId()).isEqualTo("b");
        StubServer.Recorded r = stub.requests().get(0);
        assertThat(r.header("Host")).isEqualTo("api.openai.invalid");
    }
}
