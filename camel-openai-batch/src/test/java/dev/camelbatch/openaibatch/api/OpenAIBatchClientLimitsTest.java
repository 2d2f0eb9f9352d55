package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static dev.camelbatch.openaibatch.api.StubServer.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the client reads from a server is bounded: a JSON answer larger than 16 MB is a clear error (whether its size
 * is announced or not), never retried and never read into memory as a whole; a listing stops with a clear error after
 * {@value OpenAIBatchClient#MAX_LIST_PAGES} pages of a server that always answers {@code has_more=true}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpenAIBatchClientLimitsTest {

    private static final String KEY = "sk-test-limits-0123456789";
    private static final int OVER = OpenAIBatchClient.MAX_JSON_BODY_BYTES + 1024;

    private StubServer stub;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        stub = new StubServer().recordBodies(false);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        stub.close();
    }

    private OpenAIBatchClient client() {
        OpenAIBatchClient c = new OpenAIBatchClient(OpenAIClientConfig.builder().baseUrl(stub.baseUrl()).apiKey(KEY)
                .connectTimeout(Duration.ofSeconds(2)).responseTimeout(Duration.ofSeconds(30))
                .retryPolicy(RetryPolicy.builder().maxAttempts(3).initialDelay(Duration.ofMillis(10)).jitter(0)
                        .build())
                .build());
        toClose.add(c);
        return c;
    }

    /** A batch whose metadata carries {@code size} bytes of padding. */
    private static String paddedBatch(String id, int size) {
        String base = StubServer.batchJson(id, "in_progress");
        return base.replace("\"metadata\":null", "\"metadata\":{\"pad\":\"" + "x".repeat(size) + "\"}");
    }

    /** Answers 200 with a body streamed in chunks, without Content-Length. */
    private static StubServer.Action chunked(String body) {
        return (ex, req) -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < bytes.length; i += 1 << 16) {
                    out.write(bytes, i, Math.min(1 << 16, bytes.length - i));
                }
            } catch (IOException e) {
                // the client stopped reading: expected
            }
        };
    }

    @Test
    void aJsonAnswerOverTheLimitIsAClearErrorAndNotRetried() {
        assertThat(OpenAIBatchClient.MAX_JSON_BODY_BYTES).isEqualTo(16 * 1024 * 1024);
        stub.on("GET /v1/batches/batch_big", json(200, paddedBatch("batch_big", OVER)));
        assertThatThrownBy(() -> client().retrieveBatch("batch_big")).isInstanceOf(OpenAIConnectionException.class)
                .hasMessageContaining("16777216");
        assertThat(stub.requests()).hasSize(1);
    }

    @Test
    void aChunkedJsonAnswerOverTheLimitIsAClearError() {
        stub.on("GET /v1/batches/batch_big", chunked(paddedBatch("batch_big", OVER)));
        assertThatThrownBy(() -> client().retrieveBatch("batch_big")).isInstanceOf(OpenAIConnectionException.class)
                .hasMessageContaining("16777216");
        assertThat(stub.requests()).hasSize(1);
    }

    @Test
    void anEndlessJsonAnswerEndsAtTheLimitAndItsConnectionIsDropped() {
        stub.on("GET /v1/batches/batch_endless", (ex, req) -> {
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 0);
            byte[] pad = "x".repeat(1 << 16).getBytes(StandardCharsets.US_ASCII);
            try (OutputStream out = ex.getResponseBody()) {
                out.write("{\"id\":\"batch_endless\",\"object\":\"batch\",\"metadata\":{\"pad\":\""
                        .getBytes(StandardCharsets.US_ASCII));
                while (true) {
                    out.write(pad);
                }
            } catch (IOException e) {
                // the client dropped the connection
            }
        });
        assertThatThrownBy(() -> client().retrieveBatch("batch_endless"))
                .isInstanceOf(OpenAIConnectionException.class).hasMessageContaining("16777216");
        assertThat(stub.requests()).hasSize(1);
    }

    @Test
    void aCreatedBatchWhoseAnswerIsOverTheLimitHasAnUnknownOutcome() {
        stub.on("POST /v1/batches", json(200, paddedBatch("batch_big", OVER)));
        CreateBatchRequest request = CreateBatchRequest.builder().inputFileId("file-in").endpoint("/v1/chat/completions")
                .completionWindow("24h").build();
        assertThatThrownBy(() -> client().createBatch(request))
                .isInstanceOf(BatchCreationOutcomeUnknownException.class).hasMessageContaining("16777216");
        assertThat(stub.requests()).hasSize(1);
    }

    /** Pages of one new item each, always with has_more=true. */
    private static StubServer.Action endlessPages(IntFunction<String> item) {
        AtomicInteger n = new AtomicInteger();
        return (ex, req) -> {
            int i = n.incrementAndGet();
            json(200, "{\"object\":\"list\",\"data\":[" + item.apply(i) + "],\"has_more\":true}").run(ex, req);
        };
    }

    @Test
    void aListingStopsAfterTheMostPagesWithAClearError() {
        assertThat(OpenAIBatchClient.MAX_LIST_PAGES).isEqualTo(10_000);
        int[] fetched = { 0 };
        PageIterator<String> it = new PageIterator<>("GET /things",
                OpenAIBatchClient.MAX_LIST_PAGES, after -> {
                    int i = ++fetched[0];
                    return new PageIterator.Page<>(List.of("t" + i), true, "t" + i);
                });
        int seen = 0;
        Throwable failure = null;
        try {
            while (it.hasNext()) {
                it.next();
                seen++;
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        assertThat(failure).isInstanceOf(IllegalStateException.class).hasMessageContaining("GET /things")
                .hasMessageContaining("10000 pages").hasMessageContaining("has_more");
        assertThat(fetched[0]).isEqualTo(OpenAIBatchClient.MAX_LIST_PAGES);
        assertThat(seen).isEqualTo(OpenAIBatchClient.MAX_LIST_PAGES);
        assertThat(it.hasNext()).isFalse();
    }

    @Test
    void aServerThatAlwaysHasMorePagesEndsTheListingsOfBatchesAndFiles() {
        stub.on("GET /v1/batches", endlessPages(i -> StubServer.batchJson("batch_p" + i, "completed")));
        stub.on("GET /v1/files", endlessPages(i -> StubServer.fileJson("file-p" + i, "f.jsonl", 1)));
        OpenAIBatchClient c = client();
        // over HTTP with a lower limit (10 000 round trips take long on a loaded machine)
        c.maxListPages(25);
        Iterator<Batch> batches = c.iterateBatches(1);
        assertThatThrownBy(() -> batches.forEachRemaining(b -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("GET /batches").hasMessageContaining("25 pages");
        assertThat(stub.requests("GET /v1/batches")).hasSize(25);
        Iterator<OpenAIFile> files = c.iterateFiles("batch", "desc", 1);
        assertThatThrownBy(() -> files.forEachRemaining(f -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("GET /files").hasMessageContaining("25 pages");
        assertThat(stub.requests("GET /v1/files")).hasSize(25);
    }

    @Test
    void aLargeAnswerUnderTheLimitIsRead() {
        stub.on("GET /v1/batches/batch_ok", chunked(paddedBatch("batch_ok", 2 * 1024 * 1024)));
        Batch b = client().retrieveBatch("batch_ok");
        assertThat(b.getMetadata().get("pad")).hasSize(2 * 1024 * 1024);
    }
}
