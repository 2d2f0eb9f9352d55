package dev.camelbatch.openaibatch;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Concurrent producers of one name (with syncPolicy=ALWAYS, whose fsyncs are shared): every request exactly once,
 * segments cut exactly at the limit, and a duplicate id refused for all but one of the senders. Also: a store
 * directory held by another store instance is refused with a clear message.
 */
@Timeout(300)
class ProducerConcurrencyTest extends CamelTestSupport {

    @TempDir
    static Path storeDir;

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        context.addComponent("openai-batch", component);
        return context;
    }

    @Test
    void concurrentSendersOfOneName() throws Exception {
        String uri = "openai-batch:conc?model=gpt-4o-mini&maxRequestsPerBatch=100&syncPolicy=ALWAYS"
                     + "&carryHeaders=seq";
        int threads = 4;
        int perThread = 250;
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        List<String> acked = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<?>> all = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                all.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < perThread; i++) {
                        String id = "c" + thread + "-" + i;
                        int seq = i;
                        Exchange ex = template.request(uri, e -> {
                            e.getMessage().setBody("prompt " + id);
                            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, id);
                            e.getMessage().setHeader("seq", seq);
                        });
                        if (ex.getException() != null) {
                            errors.add(ex.getException());
                        } else {
                            acked.add(id);
                        }
                    }
                }, pool));
            }
            // documents at the same time
            all.add(CompletableFuture.runAsync(() -> {
                for (int d = 0; d < 5; d++) {
                    StringBuilder doc = new StringBuilder();
                    for (int l = 0; l < 30; l++) {
                        doc.append("{\"custom_id\":\"doc").append(d).append('-').append(l)
                                .append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                                        + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n");
                    }
                    Exchange ex = template.request(uri,
                            e -> e.getMessage().setBody(doc.toString().getBytes(StandardCharsets.UTF_8)));
                    if (ex.getException() != null) {
                        errors.add(ex.getException());
                    } else {
                        for (int l = 0; l < 30; l++) {
                            acked.add("doc" + d + "-" + l);
                        }
                    }
                }
            }, pool));
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(errors).isEmpty();
        assertThat(acked).hasSize(threads * perThread + 150);

        BatchStore store = Spool.store(context, uri);
        List<String> stored = Spool.customIds(storeDir, "conc");
        assertThat(stored).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(acked);
        for (SegmentInfo s : store.segments()) {
            assertThat(s.getRequestCount()).isLessThanOrEqualTo(100);
            if ("maxRequestsPerBatch".equals(s.getSealReason())) {
                assertThat(s.getRequestCount()).isEqualTo(100);
            }
        }
        assertThat(Spool.withStatus(store, SegmentStatus.OPEN)).hasSizeLessThanOrEqualTo(1);
        assertThat(store.segments().stream().mapToInt(SegmentInfo::getRequestCount).sum()).isEqualTo(stored.size());
        // every line of the single requests has its carried headers
        long carried = Spool.carryLines(storeDir, "conc").stream().map(n -> n.path("c").asText()).distinct().count();
        assertThat(carried).isEqualTo(threads * perThread);
        for (JsonNode line : Spool.lines(storeDir, "conc")) {
            assertThat(line.path("body").path("model").asText()).isEqualTo("gpt-4o-mini");
        }
    }

    @Test
    void theSameIdFromManySendersAtOnceIsStoredOnce() throws Exception {
        String uri = "openai-batch:conc-dup?model=gpt-4o-mini";
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 20; round++) {
                String id = "same-" + round;
                List<CompletableFuture<Exchange>> futures = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    futures.add(CompletableFuture.supplyAsync(() -> template.request(uri, e -> {
                        e.getMessage().setBody("x");
                        e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, id);
                    }), pool));
                }
                int ok = 0;
                for (CompletableFuture<Exchange> f : futures) {
                    Exchange ex = f.get(10, TimeUnit.SECONDS);
                    if (ex.getException() == null) {
                        ok++;
                    } else {
                        assertThat(ex.getException()).isInstanceOf(DuplicateCustomIdException.class);
                    }
                }
                assertThat(ok).as("round %s", round).isEqualTo(1);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(Spool.customIds(storeDir, "conc-dup")).hasSize(20).doesNotHaveDuplicates();
    }

    @Test
    void aStoreDirectoryInUseIsRefusedClearly() throws IOException {
        // another process holds the store of this name (here: a lock taken by this test)
        Path nameDir = storeDir.resolve("conc-locked");
        java.nio.file.Files.createDirectories(nameDir.resolve("segments"));
        try (FileChannel ch = FileChannel.open(nameDir.resolve("store.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
             java.nio.channels.FileLock lock = ch.lock()) {
            assertThat(lock.isValid()).isTrue();
            assertThatThrownBy(() -> template.request("openai-batch:conc-locked?model=gpt-4o-mini",
                    e -> e.getMessage().setBody("hi")))
                    .rootCause().hasMessageContaining("in use").hasMessageContaining(nameDir.toString());
        }
        // released: the producer works
        Exchange ok = template.request("openai-batch:conc-locked?model=gpt-4o-mini", e -> e.getMessage().setBody("hi"));
        assertThat(ok.getException()).isNull();
    }
}
