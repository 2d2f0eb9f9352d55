package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import dev.camelbatch.openaibatch.simulator.Fault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The client against the in-process OpenAI Batch simulator: full round trips and every simulator fault. */
@Timeout(300)
class OpenAIBatchClientSimulatorTest {

    private static final String KEY = "sk-test-SECRETKEY-1234567890";

    @TempDir
    Path tmp;

    private BatchSimulator sim;
    private OpenAIBatchClient client;

    @BeforeEach
    void start() {
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(5)).build().start();
        client = client(sim.baseUrl(), b -> { });
    }

    @AfterEach
    void stop() {
        client.close();
        sim.close();
    }

    private OpenAIBatchClient client(String baseUrl, Consumer<OpenAIClientConfig.Builder> custom) {
        OpenAIClientConfig.Builder b = OpenAIClientConfig.builder().baseUrl(baseUrl).apiKey(KEY)
                .responseTimeout(Duration.ofSeconds(10))
                .retryPolicy(RetryPolicy.builder().maxAttempts(4).initialDelay(Duration.ofMillis(20))
                        .maxDelay(Duration.ofMillis(300)).build());
        custom.accept(b);
        return new OpenAIBatchClient(b.build());
    }

    private Path requests(String name, int n) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            ObjectNode body = OpenAIJson.mapper().createObjectNode().put("model", "gpt-4o-mini");
            body.putArray("messages").addObject().put("role", "user").put("content", "Calculate: 1 + " + i + " = ");
            sb.append(BatchRequestLine.of("req-" + i, "/v1/chat/completions", body).toJsonLine()).append('\n');
        }
        return Files.writeString(tmp.resolve(name), sb.toString());
    }

    private CreateBatchRequest batchRequest(String fileId, String tag) {
        return CreateBatchRequest.builder().inputFileId(fileId).endpoint("/v1/chat/completions")
                .putMetadata("test", tag).build();
    }

    private Batch awaitTerminal(String batchId) {
        Batch[] last = new Batch[1];
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
            last[0] = client.retrieveBatch(batchId);
            return last[0].isTerminal();
        });
        return last[0];
    }

    private static String read(InputStream in) throws IOException {
        try (InputStream s = in) {
            return new String(s.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void fullRoundTrip() throws IOException {
        Path input = requests("input.jsonl", 25);
        OpenAIFile file = client.uploadFile(input, "input.jsonl", "batch", 3600L);
        assertThat(file.getId()).isNotBlank();
        assertThat(file.getBytes()).isEqualTo(Files.size(input));
        assertThat(file.getPurpose()).isEqualTo("batch");
        assertThat(file.getExpiresAt()).isNotNull();
        assertThat(client.retrieveFile(file.getId()).getFilename()).isEqualTo("input.jsonl");
        assertThat(sim.fileContent(file.getId())).isEqualTo(Files.readString(input));

        Batch created = client.createBatch(CreateBatchRequest.builder().inputFileId(file.getId())
                .endpoint("/v1/chat/completions").putMetadata("route", "r1").putMetadata("exchange", "ex-1")
                .outputExpiresAfterSeconds(7200L).build());
        assertThat(created.getStatus()).isEqualTo("validating");
        assertThat(created.getMetadata()).containsEntry("route", "r1");
        assertThat(created.getCompletionWindow()).isEqualTo("24h");

        Batch done = awaitTerminal(created.getId());
        assertThat(done.batchStatus()).isEqualTo(BatchStatus.COMPLETED);
        assertThat(done.getRequestCounts().getTotal()).isEqualTo(25);
        assertThat(done.getRequestCounts().getCompleted()).isEqualTo(25);
        assertThat(done.getRequestCounts().getFailed()).isZero();
        assertThat(done.getCompletedAt()).isNotNull();
        assertThat(done.getOutputFileId()).isNotBlank();

        String output = read(client.downloadFileContent(done.getOutputFileId()));
        Map<String, BatchOutputLine> byId = new HashMap<>();
        for (String line : output.split("\n")) {
            if (!line.isBlank()) {
                BatchOutputLine l = BatchOutputLine.parse(line);
                byId.put(l.getCustomId(), l);
            }
        }
        assertThat(byId).hasSize(25);
        BatchOutputLine seven = byId.get("req-7");
        assertThat(seven.isSuccess()).isTrue();
        assertThat(seven.getResponse().getBody().at("/choices/0/message/content").asText()).contains("1 + 7 = 8");

        assertThat(client.deleteFile(file.getId()).isDeleted()).isTrue();
        assertThatThrownBy(() -> client.retrieveFile(file.getId())).isInstanceOf(OpenAINotFoundException.class);
        assertThatThrownBy(() -> client.retrieveBatch("batch_does_not_exist"))
                .isInstanceOf(OpenAINotFoundException.class);
    }

    @Test
    void listsPageThroughBatchesAndFiles() throws IOException {
        OpenAIFile file = client.uploadFile(requests("in.jsonl", 2), null, "batch", null);
        List<String> createdIds = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            createdIds.add(client.createBatch(batchRequest(file.getId(), "list-" + i)).getId());
        }
        BatchList first = client.listBatches(null, 2);
        assertThat(first.getData()).hasSize(2);
        assertThat(first.hasMore()).isTrue();
        assertThat(first.getData().get(0).getId()).isEqualTo(createdIds.get(4)); // newest first

        List<String> all = new ArrayList<>();
        client.iterateBatches(2).forEachRemaining(b -> all.add(b.getId()));
        List<String> newestFirst = new ArrayList<>(createdIds);
        java.util.Collections.reverse(newestFirst);
        assertThat(all).containsExactlyElementsOf(newestFirst);
        assertThat(sim.stats().calls("GET /v1/batches")).isEqualTo(1 + 3);

        for (int i = 0; i < 3; i++) {
            client.uploadFile(requests("more-" + i + ".jsonl", 1), null, "batch", null);
        }
        List<String> files = new ArrayList<>();
        Iterator<OpenAIFile> it = client.iterateFiles("batch", "asc", 2);
        it.forEachRemaining(f -> files.add(f.getId()));
        assertThat(files).hasSize(4).startsWith(file.getId()).doesNotHaveDuplicates();
        assertThat(client.listFiles("batch", null, 1, "desc").getData()).hasSize(1);
    }

    @Test
    void cancelABatch() throws IOException {
        // a slow simulator, so that the batch is still running when it is cancelled
        try (BatchSimulator slow = BatchSimulator.builder().apiKey(KEY).stepDelay(Duration.ofMillis(400)).build()
                .start(); OpenAIBatchClient c = client(slow.baseUrl(), b -> { })) {
            OpenAIFile file = c.uploadFile(requests("in.jsonl", 3), null, "batch", null);
            Batch b = c.createBatch(batchRequest(file.getId(), "cancel"));
            slow.faults().nextCalls("POST /v1/batches/*/cancel", 1, Fault.RATE_LIMIT_429);
            Batch cancelling = c.cancelBatch(b.getId());
            assertThat(cancelling.getStatus()).isIn("cancelling", "cancelled");
            assertThat(slow.stats().calls("POST /v1/batches/{id}/cancel")).isEqualTo(2);
            Batch[] last = new Batch[1];
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
                last[0] = c.retrieveBatch(b.getId());
                return last[0].isTerminal();
            });
            assertThat(last[0].batchStatus()).isEqualTo(BatchStatus.CANCELLED);
            assertThat(last[0].getCancelledAt()).isNotNull();
        }
    }

    @Test
    void cancellingAFinishedBatchIsAConflictNotRetried() throws IOException {
        OpenAIFile file = client.uploadFile(requests("in.jsonl", 1), null, "batch", null);
        Batch done = awaitTerminal(client.createBatch(batchRequest(file.getId(), "done")).getId());
        assertThatThrownBy(() -> client.cancelBatch(done.getId())).isInstanceOf(OpenAIApiException.class)
                .satisfies(t -> assertThat(((OpenAIApiException) t).isRetryable()).isFalse());
        assertThat(sim.stats().calls("POST /v1/batches/{id}/cancel")).isEqualTo(1);
    }

    @Test
    void wrongKeyIsAnAuthenticationErrorWithoutTheKey() {
        String wrong = "sk-test-WRONGKEY-0000000000";
        try (OpenAIBatchClient c = client(sim.baseUrl(), b -> b.apiKey(wrong))) {
            assertThatThrownBy(() -> c.listBatches(null, 1))
                    .isInstanceOf(OpenAIAuthenticationException.class)
                    .satisfies(t -> assertThat(t.getMessage()).doesNotContain(wrong).doesNotContain(KEY)
                            .contains("401"));
        }
        assertThat(sim.stats().calls("GET /v1/batches")).isEqualTo(1);
    }

    // --------------------------------------------------------------------------------------------- faults

    @Test
    void uploadRetriesRateLimitsButNotServerErrors() throws IOException {
        Path input = requests("in.jsonl", 4);
        sim.faults().nextCalls("POST /v1/files", 2, Fault.RATE_LIMIT_429);
        OpenAIFile f = client.uploadFile(input, null, "batch", null);
        assertThat(sim.stats().calls("POST /v1/files")).isEqualTo(3);
        assertThat(sim.fileContent(f.getId())).isEqualTo(Files.readString(input));

        // a 500 may come after the file was stored: not uploaded again, the caller looks first
        sim.faults().nextCalls("POST /v1/files", 1, Fault.SERVER_ERROR_AFTER_EFFECT);
        assertThatThrownBy(() -> client.uploadFile(input, "again.jsonl", "batch", null))
                .isInstanceOf(UploadOutcomeUnknownException.class)
                .satisfies(t -> assertThat(((UploadOutcomeUnknownException) t).getFilename()).isEqualTo("again.jsonl"));
        assertThat(sim.stats().calls("POST /v1/files")).isEqualTo(4);
        assertThat(sim.stats().filesStored()).isEqualTo(2);
    }

    @Test
    void rateLimitRetryAfterFromTheSimulatorIsHonoured() throws IOException {
        OpenAIFile file = client.uploadFile(requests("in.jsonl", 1), null, "batch", null);
        sim.faults().nextCalls("POST /v1/batches", 1, Fault.RATE_LIMIT_429);
        RecordedWaits waits = new RecordedWaits();
        try (OpenAIBatchClient patient = new OpenAIBatchClient(OpenAIClientConfig.builder().baseUrl(sim.baseUrl())
                .apiKey(KEY).retryPolicy(RetryPolicy.builder().initialDelay(Duration.ofMillis(10)).build()).build(),
                waits)) {
            assertThat(patient.createBatch(batchRequest(file.getId(), "429")).getId()).isNotBlank();
        }
        // the simulator's 429 says retry-after-ms: 1000, which wins over the 10 ms backoff
        assertThat(waits.millis()).containsExactly(1_000L);
        assertThat(sim.stats().calls("POST /v1/batches")).isEqualTo(2);
        assertThat(sim.stats().batchesCreated()).isEqualTo(1);
    }

    @Test
    void createBatchAnswered500IsOutcomeUnknownAndNotRetried() throws IOException {
        OpenAIFile file = client.uploadFile(requests("in.jsonl", 1), null, "batch", null);
        sim.faults().nextCalls("POST /v1/batches", 1, Fault.SERVER_ERROR_AFTER_EFFECT);
        CreateBatchRequest req = batchRequest(file.getId(), "500");
        assertThatThrownBy(() -> client.createBatch(req))
                .isInstanceOf(BatchCreationOutcomeUnknownException.class)
                .satisfies(t -> assertThat(((BatchCreationOutcomeUnknownException) t).getRequest()).isSameAs(req));
        assertThat(sim.stats().calls("POST /v1/batches")).isEqualTo(1);
        assertThat(sim.stats().batchesCreated()).as("the 500 came after the batch was created").isEqualTo(1);
    }

    @Test
    void createBatchAfterResetIsOutcomeUnknown() throws IOException {
        OpenAIFile file = client.uploadFile(requests("in.jsonl", 1), null, "batch", null);
        sim.faults().nextCalls("POST /v1/batches", 1, Fault.CONNECTION_RESET);
        CreateBatchRequest req = batchRequest(file.getId(), "reset");
        assertThatThrownBy(() -> client.createBatch(req))
                .isInstanceOf(BatchCreationOutcomeUnknownException.class)
                .satisfies(t -> assertThat(((BatchCreationOutcomeUnknownException) t).getRequest()).isSameAs(req));
        assertThat(sim.stats().calls("POST /v1/batches")).isEqualTo(1);
        // reconciliation by metadata: nothing was created, so creating again is safe
        assertThat(findByMetadata("test", "reset")).isNull();
        assertThat(client.createBatch(req).getMetadata()).containsEntry("test", "reset");
    }

    @Test
    void createBatchAfterTimeoutIsOutcomeUnknownAndReconcilable() throws IOException {
        OpenAIFile file = client.uploadFile(requests("in.jsonl", 1), null, "batch", null);
        sim.faults().slowResponseDelay(Duration.ofMillis(1200));
        sim.faults().nextCalls("POST /v1/batches", 1, Fault.SLOW_RESPONSE);
        try (OpenAIBatchClient impatient = client(sim.baseUrl(), b -> b.responseTimeout(Duration.ofMillis(300)))) {
            assertThatThrownBy(() -> impatient.createBatch(batchRequest(file.getId(), "slow")))
                    .isInstanceOf(BatchCreationOutcomeUnknownException.class);
        }
        assertThat(sim.stats().calls("POST /v1/batches")).isEqualTo(1);
        // the slow call went on in the server: the batch shows up when listing by metadata
        await().atMost(Duration.ofSeconds(10)).until(() -> findByMetadata("test", "slow") != null);
    }

    private Batch findByMetadata(String key, String value) {
        Iterator<Batch> it = client.iterateBatches(100);
        while (it.hasNext()) {
            Batch b = it.next();
            if (b.getMetadata() != null && value.equals(b.getMetadata().get(key))) {
                return b;
            }
        }
        return null;
    }

    @Test
    void readsRetryResetsAndSlowResponses() throws IOException {
        OpenAIFile file = client.uploadFile(requests("in.jsonl", 1), null, "batch", null);
        Batch b = client.createBatch(batchRequest(file.getId(), "reads"));
        sim.faults().nextCalls("GET /v1/batches/*", 1, Fault.CONNECTION_RESET);
        assertThat(client.retrieveBatch(b.getId()).getId()).isEqualTo(b.getId());
        assertThat(sim.stats().calls("GET /v1/batches/{id}")).isEqualTo(2);

        sim.faults().slowResponseDelay(Duration.ofMillis(1000));
        sim.faults().nextCalls("GET /v1/files/*", 1, Fault.SLOW_RESPONSE);
        try (OpenAIBatchClient impatient = client(sim.baseUrl(), c -> c.responseTimeout(Duration.ofMillis(300)))) {
            assertThat(impatient.retrieveFile(file.getId()).getId()).isEqualTo(file.getId());
        }
        assertThat(sim.stats().calls("GET /v1/files/{id}")).isEqualTo(2);

        sim.faults().nextCalls("GET /v1/batches", 2, Fault.SERVER_ERROR_500);
        assertThat(client.listBatches(null, 10).getData()).isNotEmpty();
        assertThat(sim.stats().calls("GET /v1/batches")).isEqualTo(3);

        sim.faults().nextCalls("DELETE /v1/files/*", 1, Fault.SERVER_ERROR_500);
        assertThat(client.deleteFile(file.getId()).isDeleted()).isTrue();
    }

    @Test
    void truncatedDownloadIsDetectedAndASecondDownloadSucceeds() throws IOException {
        Path input = requests("in.jsonl", 200);
        OpenAIFile file = client.uploadFile(input, null, "batch", null);
        String expected = Files.readString(input);
        sim.faults().nextCalls("GET /v1/files/*/content", 1, Fault.TRUNCATED_DOWNLOAD);

        InputStream first = client.downloadFileContent(file.getId());
        assertThatThrownBy(first::readAllBytes).isInstanceOf(TruncatedDownloadException.class);
        first.close();

        assertThat(read(client.downloadFileContent(file.getId()))).isEqualTo(expected);
        sim.faults().nextCalls("GET /v1/files/*/content", 2, Fault.SERVER_ERROR_500);
        assertThat(read(client.downloadFileContent(file.getId()))).isEqualTo(expected);
        assertThat(sim.stats().calls("GET /v1/files/{id}/content")).isEqualTo(5);
    }

    @Test
    void azureRoundTrip() throws IOException {
        try (BatchSimulator azure = BatchSimulator.builder().apiKey(KEY).azureMode(true)
                .stepDelay(Duration.ofMillis(5)).build().start();
             OpenAIBatchClient c = client(azure.baseUrl(), b -> b.azure(true).azureApiVersion("2024-10-21"))) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                ObjectNode body = OpenAIJson.mapper().createObjectNode().put("model", "gpt-4o-mini");
                body.putArray("messages").addObject().put("role", "user").put("content", "Calculate: 1 + " + i + " = ");
                sb.append(BatchRequestLine.of("a-" + i,
                        OpenAIBatchClient.azureEndpointValue("/v1/chat/completions", "2024-10-21"), body).toJsonLine())
                        .append('\n');
            }
            Path input = Files.writeString(tmp.resolve("azure.jsonl"), sb.toString());
            OpenAIFile f = c.uploadFile(input, null, "batch", null);
            Batch b = c.createBatch(CreateBatchRequest.builder().inputFileId(f.getId())
                    .endpoint(OpenAIBatchClient.azureEndpointValue("/v1/chat/completions", "2024-10-21")).build());
            assertThat(b.getEndpoint()).isEqualTo("/chat/completions");
            Batch[] last = new Batch[1];
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
                last[0] = c.retrieveBatch(b.getId());
                return last[0].isTerminal();
            });
            assertThat(last[0].batchStatus()).isEqualTo(BatchStatus.COMPLETED);
            assertThat(read(c.downloadFileContent(last[0].getOutputFileId()))).contains("a-0", "a-1", "a-2");

            // the client in Azure mode sent the key in the api-key header; as a bearer token it is refused
            try (OpenAIBatchClient bearer = client(azure.baseUrl(), x -> { })) {
                assertThatThrownBy(() -> bearer.listBatches(null, 1)).isInstanceOf(OpenAIAuthenticationException.class)
                        .satisfies(t -> {
                            assertThat(((OpenAIApiException) t).getHttpStatus()).isEqualTo(401);
                            assertThat(((OpenAIApiException) t).getApiMessage()).contains("Access token");
                        });
            }
        }
    }
}
