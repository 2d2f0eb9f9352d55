package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static dev.camelbatch.openaibatch.api.StubServer.batchJson;
import static dev.camelbatch.openaibatch.api.StubServer.dropConnection;
import static dev.camelbatch.openaibatch.api.StubServer.error;
import static dev.camelbatch.openaibatch.api.StubServer.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The API key must appear in no log line (any level, HttpClient's own DEBUG logs included except its header and wire
 * loggers, which log raw headers by design), no exception message or stack trace, and no toString().
 */
@Timeout(300)
class ApiKeyLeakTest {

    static final String KEY = "sk-test-SECRETKEY-1234567890";
    static final String[] FRAGMENTS = {KEY, "SECRETKEY", "sk-test-SECRET"};

    @TempDir
    Path tmp;

    private StubServer stub;
    private LogCapture logs;

    @BeforeEach
    void start() throws IOException {
        stub = new StubServer();
        logs = LogCapture.start(Level.TRACE, "dev.camelbatch.openaibatch.api");
        LogCapture.setLevel("org.apache.hc", Level.DEBUG);
        // HttpClient logs raw request headers on these two loggers when they are at DEBUG: never enable them in
        // production with a real key
        LogCapture.setLevel("org.apache.hc.client5.http.headers", Level.INFO);
        LogCapture.setLevel("org.apache.hc.client5.http.wire", Level.INFO);
    }

    @AfterEach
    void stop() {
        logs.close();
        LogCapture.setLevel("org.apache.hc", Level.INFO);
        LogCapture.setLevel("dev.camelbatch.openaibatch.api", Level.DEBUG);
        stub.close();
    }

    @Test
    void keyNeverAppearsInLogsExceptionsOrToString() throws Exception {
        // a 401 whose message masks the key as OpenAI does, and a misbehaving server that echoes it in full
        stub.on("GET /v1/batches/b401", error(401, "invalid_request_error", "invalid_api_key",
                "Incorrect API key provided: sk-test-***7890. You can find your API key at ..."));
        stub.on("GET /v1/batches/echo", error(401, "invalid_request_error", "invalid_api_key",
                "Incorrect API key provided: " + KEY, "x-request-id", "req_" + KEY));
        stub.on("GET /v1/batches/echo500", (ex, req) -> {
            byte[] b = ("<html>proxy error for Authorization: Bearer " + KEY + "</html>")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(502, b.length);
            ex.getResponseBody().write(b);
        });
        stub.on("GET /v1/batches/b429", error(429, "requests", "rate_limit_exceeded", "Rate limit reached",
                "retry-after-ms", "5"));
        stub.on("GET /v1/files/f500", error(500, "server_error", null, "The server had an error"));
        stub.on("POST /v1/batches", dropConnection());
        stub.on("GET /v1/batches/ok", error(503, "server_error", null, "busy"), json(200, batchJson("ok", "completed")));
        stub.on("POST /v1/files", error(500, "server_error", null, "boom"));
        stub.on("GET /v1/files/f/content", (ex, req) -> {
            ex.sendResponseHeaders(200, 1000);
            ex.getResponseBody().write(new byte[10]);
            ex.getResponseBody().flush();
            throw new IOException("cut");
        });

        OpenAIClientConfig config = OpenAIClientConfig.builder().baseUrl(stub.baseUrl()).apiKey(KEY)
                .organization("org-x").project("proj-x")
                .responseTimeout(Duration.ofSeconds(1))
                .retryPolicy(RetryPolicy.builder().maxAttempts(3).initialDelay(Duration.ofMillis(5)).build())
                .build();
        List<Throwable> thrown = new ArrayList<>();
        List<String> strings = new ArrayList<>();
        strings.add(config.toString());
        strings.add(config.getRetryPolicy().toString());
        try (OpenAIBatchClient client = new OpenAIBatchClient(config)) {
            strings.add(client.toString());
            thrown.add(catchThrowable(() -> client.retrieveBatch("b401")));
            thrown.add(catchThrowable(() -> client.retrieveBatch("echo")));
            thrown.add(catchThrowable(() -> client.retrieveBatch("echo500")));
            thrown.add(catchThrowable(() -> client.retrieveBatch("b429")));
            thrown.add(catchThrowable(() -> client.retrieveFile("f500")));
            thrown.add(catchThrowable(() -> client.createBatch(CreateBatchRequest.builder().inputFileId("file-1")
                    .endpoint("/v1/chat/completions").putMetadata("k", "v").build())));
            thrown.add(catchThrowable(() -> client.uploadFile(Files.writeString(tmp.resolve("a.jsonl"), "{}\n"),
                    null, "batch", null)));
            thrown.add(catchThrowable(() -> {
                try (InputStream in = client.downloadFileContent("f")) {
                    in.readAllBytes();
                }
            }));
            strings.add(client.retrieveBatch("ok").toString());
        }
        try (OpenAIBatchClient refused = new OpenAIBatchClient(config.toBuilder().baseUrl("http://127.0.0.1:1/v1")
                .retryPolicy(RetryPolicy.none()).build())) {
            thrown.add(catchThrowable(() -> refused.listBatches(null, 1)));
        }

        assertThat(thrown).hasSize(9).doesNotContainNull();
        assertThat(thrown.get(0)).isInstanceOf(OpenAIAuthenticationException.class);
        assertThat(thrown.get(1)).isInstanceOf(OpenAIAuthenticationException.class);
        assertThat(((OpenAIApiException) thrown.get(1)).getApiMessage()).contains("****");
        assertThat(thrown.get(3)).isInstanceOf(OpenAIRateLimitException.class);
        assertThat(thrown.get(5)).isInstanceOf(BatchCreationOutcomeUnknownException.class);
        assertThat(thrown.get(7)).isInstanceOf(TruncatedDownloadException.class);
        assertThat(thrown.get(8)).isInstanceOf(OpenAIConnectionException.class);

        for (Throwable t : thrown) {
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw));
            strings.add(String.valueOf(t.getMessage()));
            strings.add(t.toString());
            strings.add(sw.toString());
            if (t instanceof OpenAIApiException) {
                OpenAIApiException e = (OpenAIApiException) t;
                strings.add(String.valueOf(e.getApiMessage()));
                strings.add(String.valueOf(e.getRequestId()));
                strings.add(String.valueOf(e.getCode()));
            }
            if (t instanceof BatchCreationOutcomeUnknownException) {
                strings.add(String.valueOf(((BatchCreationOutcomeUnknownException) t).getRequest()));
            }
        }
        List<String> lines = logs.lines();
        assertThat(logs.lines("WARN")).as("retries are logged at WARN").isNotEmpty();
        assertThat(logs.lines("DEBUG")).as("calls are logged at DEBUG").isNotEmpty();
        for (String fragment : FRAGMENTS) {
            assertThat(lines).as("log lines").noneMatch(l -> l.contains(fragment));
            assertThat(strings).as("messages and toString()").noneMatch(s -> s.contains(fragment));
        }
        // and the requests did carry the key, so the check above is meaningful
        assertThat(stub.requests().get(0).header("Authorization")).isEqualTo("Bearer " + KEY);
    }
}
