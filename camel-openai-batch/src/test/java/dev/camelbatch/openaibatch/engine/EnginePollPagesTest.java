package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import dev.camelbatch.openaibatch.api.RetryPolicy;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import dev.camelbatch.openaibatch.engine.store.file.FileBatchStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.MAPPER;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.ROOMY;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.rec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine's poll reads the batch list page after page until it has seen its batches; a server that always answers
 * {@code has_more=true} with other batches ends that after {@code maxListPages} pages, and the batches not seen are
 * asked for one by one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EnginePollPagesTest {

    @TempDir
    Path tmp;

    private HttpServer server;
    private final AtomicInteger listCalls = new AtomicInteger();
    private final AtomicInteger retrieveCalls = new AtomicInteger();
    private FileBatchStore store;
    private OpenAIBatchClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (store != null) {
            store.close();
        }
        if (server != null) {
            server.stop(0);
        }
    }

    private static String batchJson(String id, String status) {
        return "{\"id\":\"" + id + "\",\"object\":\"batch\",\"endpoint\":\"/v1/chat/completions\",\"errors\":null,"
               + "\"input_file_id\":\"file-in\",\"completion_window\":\"24h\",\"status\":\"" + status + "\","
               + "\"created_at\":1711471533,\"request_counts\":{\"total\":1,\"completed\":0,\"failed\":0},"
               + "\"metadata\":null}";
    }

    private static void answer(HttpExchange ex, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Test
    void aBatchListThatNeverEndsIsReadUpToTheLimitThenTheBatchIsAskedFor() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/batches", ex -> {
            try (ex) {
                if (ex.getRequestURI().getPath().equals("/v1/batches")) {
                    int n = listCalls.incrementAndGet();
                    answer(ex, "{\"object\":\"list\",\"data\":[" + batchJson("batch_other" + n, "in_progress")
                               + "],\"has_more\":true}");
                } else {
                    retrieveCalls.incrementAndGet();
                    answer(ex, batchJson("batch_mine", "in_progress"));
                }
            }
        });
        server.start();
        client = new OpenAIBatchClient(OpenAIClientConfig.builder().apiKey("sk-test-poll-pages")
                .baseUrl("http://127.0.0.1:" + server.getAddress().getPort() + "/v1")
                .connectTimeout(Duration.ofSeconds(2)).responseTimeout(Duration.ofSeconds(5))
                .retryPolicy(RetryPolicy.none()).build());

        store = new FileBatchStore(tmp.resolve("store"), "poll-pages", SyncPolicy.NEVER, 60_000, MAPPER);
        store.start();
        store.append("/v1/chat/completions", "gpt-4o-mini", List.of(rec("a1")), ROOMY);
        store.sealOpen(s -> true, SealReason.FLUSH);
        SegmentInfo s = store.segments().get(0);
        SegmentLifecycle.advance(s, SegmentStatus.CREATING);
        s.submittedAs("batch_mine", "validating", 1711471533L, System.currentTimeMillis());
        store.update(s);

        EngineConfig config = new EngineConfig();
        config.maxListPages = 7;
        BatchEngine engine = new BatchEngine(store, client, config, line -> true, null, MAPPER, tmp.resolve("work"));
        engine.cycle();

        assertThat(listCalls.get()).isEqualTo(7);
        assertThat(retrieveCalls.get()).isEqualTo(1);
        assertThat(store.segment(s.getId()).getBatchStatus()).isEqualTo("in_progress");
    }

    @Test
    void theDefaultLimitIsTheClientsListingLimit() {
        assertThat(new EngineConfig().maxListPages).isEqualTo(OpenAIBatchClient.MAX_LIST_PAGES);
    }
}
