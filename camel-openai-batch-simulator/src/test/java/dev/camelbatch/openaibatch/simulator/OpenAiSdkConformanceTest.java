package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.batches.BatchListParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileDeleted;
import com.openai.models.files.FileListParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The official OpenAI Java SDK drives the simulator and parses (and validates) every response. */
@Timeout(300)
class OpenAiSdkConformanceTest {

    static BatchSimulator sim;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey("sk-sdk-test").stepDelay(Duration.ofMillis(30)).linesPerStep(3).build()
                .start();
        client = OpenAIOkHttpClient.builder().apiKey("sk-sdk-test").baseUrl(sim.baseUrl())
                .organization("org-ignored").project("proj-ignored").maxRetries(2).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        sim.close();
    }

    @BeforeEach
    void reset() {
        sim.reset();
    }

    @Test
    void fullBatchWorkflowThroughTheSdk(@TempDir Path dir) throws IOException {
        Path input = dir.resolve("input.jsonl");
        Files.writeString(input, SimHttp.calculations(10));

        FileObject file = client.files().create(FileCreateParams.builder().file(input).purpose(FilePurpose.BATCH).build());
        file.validate();
        assertThat(file.id()).startsWith("file-");
        assertThat(file.filename()).isEqualTo("input.jsonl");
        assertThat(file.bytes()).isEqualTo(Files.size(input));
        assertThat(file.purpose()).isEqualTo(FileObject.Purpose.BATCH);
        assertThat(file.status()).isEqualTo(FileObject.Status.PROCESSED);
        assertThat(file.expiresAt()).isPresent();

        FileObject retrieved = client.files().retrieve(file.id());
        retrieved.validate();
        assertThat(retrieved.id()).isEqualTo(file.id());

        List<String> batchIds = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Batch batch = client.batches().create(BatchCreateParams.builder().inputFileId(file.id())
                    .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                    .completionWindow(BatchCreateParams.CompletionWindow._24H)
                    .metadata(BatchCreateParams.Metadata.builder().putAdditionalProperty("segment",
                            com.openai.core.JsonValue.from("seg-" + i)).build())
                    .build());
            batch.validate();
            assertThat(batch.status()).isEqualTo(Batch.Status.VALIDATING);
            batchIds.add(batch.id());
        }
        String running = batchIds.get(4);
        sim.makeStuck(running); // keep one batch running for the cancel below
        assertThat(sim.stats().batchesCreatedByMetadata("segment", "seg-3")).isEqualTo(1);

        Batch done = awaitStatus(batchIds.get(0), Batch.Status.COMPLETED);
        done.validate();
        assertThat(done.requestCounts()).hasValueSatisfying(c -> {
            assertThat(c.total()).isEqualTo(10);
            assertThat(c.completed()).isEqualTo(10);
            assertThat(c.failed()).isZero();
        });
        assertThat(done.usage()).isPresent();
        assertThat(done.model()).contains("gpt-4o-mini");
        assertThat(done.errorFileId()).isEmpty();
        assertThat(done.outputFileId()).isPresent();

        // list with pagination: 5 batches, pages of 2
        List<String> listed = new ArrayList<>();
        client.batches().list(BatchListParams.builder().limit(2).build()).autoPager().forEach(b -> {
            b.validate();
            listed.add(b.id());
        });
        List<String> newestFirst = new ArrayList<>(batchIds);
        java.util.Collections.reverse(newestFirst);
        assertThat(listed).containsExactlyElementsOf(newestFirst);
        assertThat(sim.stats().calls("GET /v1/batches")).isGreaterThanOrEqualTo(3);

        // files list with pagination (the input plus the output files of completed batches)
        List<String> files = new ArrayList<>();
        client.files().list(FileListParams.builder().limit(1).build()).autoPager().forEach(f -> {
            f.validate();
            files.add(f.id());
        });
        assertThat(files).contains(file.id(), done.outputFileId().get());

        // content
        String content;
        try (HttpResponse response = client.files().content(done.outputFileId().get());
                InputStream body = response.body()) {
            assertThat(response.statusCode()).isEqualTo(200);
            content = new String(body.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(content.split("\n")).hasSize(10);
        assertThat(content).contains("\"1 + 7 = 8\"");

        // cancel a batch that is still running
        Batch cancelling = client.batches().cancel(running);
        cancelling.validate();
        assertThat(cancelling.status()).isIn(Batch.Status.CANCELLING, Batch.Status.CANCELLED);
        sim.unstuck(running);
        Batch cancelled = awaitStatus(running, Batch.Status.CANCELLED);
        cancelled.validate();
        assertThat(cancelled.cancelledAt()).isPresent();

        // delete
        FileDeleted deleted = client.files().delete(file.id());
        deleted.validate();
        assertThat(deleted.deleted()).isTrue();
        assertThat(deleted.id()).isEqualTo(file.id());
        assertThatThrownBy(() -> client.files().retrieve(file.id())).isInstanceOf(NotFoundException.class);
    }

    @Test
    void failedBatchWithErrorsParses(@TempDir Path dir) throws IOException {
        Path input = dir.resolve("bad.jsonl");
        Files.writeString(input, "{oops\n" + SimHttp.chatLine("a", "gpt-4o-mini", "x") + "\n"
                + SimHttp.chatLine("a", "gpt-4o-mini", "y") + "\n");
        FileObject file = client.files().create(FileCreateParams.builder().file(input).purpose(FilePurpose.BATCH).build());
        Batch b = client.batches().create(BatchCreateParams.builder().inputFileId(file.id())
                .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                .completionWindow(BatchCreateParams.CompletionWindow._24H).build());
        Batch failed = awaitStatus(b.id(), Batch.Status.FAILED);
        failed.validate();
        assertThat(failed.errors()).hasValueSatisfying(errors -> {
            assertThat(errors.data().orElseThrow()).extracting(e -> e.code().orElseThrow())
                    .containsExactly("invalid_json_line", "duplicate_custom_id");
            assertThat(errors.data().orElseThrow().get(0).line()).contains(1L);
        });
    }

    @Test
    void expiredBatchParses(@TempDir Path dir) throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, SimHttp.calculations(6));
        FileObject file = client.files().create(FileCreateParams.builder().file(input).purpose(FilePurpose.BATCH).build());
        Batch b = client.batches().create(BatchCreateParams.builder().inputFileId(file.id())
                .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                .completionWindow(BatchCreateParams.CompletionWindow._24H).build());
        sim.makeStuck(b.id());
        sim.expireBatch(b.id());
        Batch expired = client.batches().retrieve(b.id());
        expired.validate();
        assertThat(expired.status()).isEqualTo(Batch.Status.EXPIRED);
        assertThat(expired.expiredAt()).isPresent();
    }

    @Test
    void errorsMapToSdkExceptions() {
        OpenAIClient wrong = OpenAIOkHttpClient.builder().apiKey("sk-wrong-key-1234").baseUrl(sim.baseUrl())
                .maxRetries(0).build();
        try {
            assertThatThrownBy(() -> wrong.batches().list()).isInstanceOfSatisfying(UnauthorizedException.class,
                    e -> {
                        assertThat(e.statusCode()).isEqualTo(401);
                        assertThat(e.getMessage()).contains("****1234").doesNotContain("sk-wrong-key");
                    });
        } finally {
            wrong.close();
        }
        assertThatThrownBy(() -> client.batches().retrieve("batch_missing")).isInstanceOf(NotFoundException.class);

        // the SDK retries 429 honouring Retry-After and then succeeds
        sim.faults().nextCalls("GET /v1/batches", 1, Fault.RATE_LIMIT_429);
        long before = sim.stats().calls("GET /v1/batches");
        client.batches().list();
        assertThat(sim.stats().calls("GET /v1/batches") - before).isEqualTo(2);
        OpenAIClient noRetry = OpenAIOkHttpClient.builder().apiKey("sk-sdk-test").baseUrl(sim.baseUrl())
                .maxRetries(0).build();
        try {
            sim.faults().nextCalls("GET /v1/batches", 1, Fault.RATE_LIMIT_429);
            assertThatThrownBy(() -> noRetry.batches().list()).isInstanceOf(RateLimitException.class);
        } finally {
            noRetry.close();
        }
    }

    private static Batch awaitStatus(String id, Batch.Status status) {
        Batch[] last = new Batch[1];
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> {
            last[0] = client.batches().retrieve(id);
            last[0].validate();
            return last[0].status().equals(status);
        });
        return last[0];
    }
}
