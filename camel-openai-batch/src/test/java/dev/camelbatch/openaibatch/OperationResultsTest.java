package dev.camelbatch.openaibatch;

import java.io.BufferedWriter;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.camelbatch.openaibatch.api.Batch;
import org.apache.camel.Exchange;
import org.apache.camel.StreamCache;
import org.apache.camel.builder.RouteBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * results of a batch of 50 000 requests arrives as a stream that the streaming splitter reads line by line: the body
 * is the HTTP download itself, neither a byte array nor a stream cache, so nothing holds the file in memory.
 */
@Timeout(300)
class OperationResultsTest extends OperationsSupport {

    static final int N = 50_000;
    final AtomicReference<Object> bodySeen = new AtomicReference<>();
    final AtomicInteger lines = new AtomicInteger();
    final AtomicInteger bytes = new AtomicInteger();

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:results")
                        .to("openai-batch:big?operation=results")
                        .process(e -> bodySeen.set(e.getMessage().getBody()))
                        .split(body().tokenize("\n")).streaming()
                            .process(e -> {
                                String line = e.getMessage().getBody(String.class);
                                if (!line.isBlank()) {
                                    lines.incrementAndGet();
                                    bytes.addAndGet(line.length());
                                }
                            })
                        .end();
            }
        };
    }

    @Test
    void largeOutputIsStreamedLineByLine() throws Exception {
        Path doc = storeDir.resolve("big.jsonl");
        try (BufferedWriter w = Files.newBufferedWriter(doc, StandardCharsets.UTF_8)) {
            for (int i = 0; i < N; i++) {
                w.write("{\"custom_id\":\"big-" + i + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                        + "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"
                        + "\"Calculate: 1 + " + i + " = \"}]}}\n");
            }
        }
        Exchange s = call("openai-batch:big?operation=submit&track=false", doc, null);
        assertThat(s.getException()).isNull();
        Batch b = s.getMessage().getBody(Batch.class);
        assertThat(b.getRequestCounts() == null || b.getRequestCounts().getTotal() == null
                   || b.getRequestCounts().getTotal() <= N).isTrue();
        Exchange w = call("openai-batch:big?operation=wait&waitTimeout=120000", null,
                Map.of(OpenAIBatchConstants.BATCH_ID, b.getId()));
        assertThat(w.getMessage().getBody(Batch.class).getStatus()).isEqualTo("completed");
        assertThat(w.getMessage().getHeader(OpenAIBatchConstants.COMPLETED_COUNT)).isEqualTo(N);

        Exchange r = template.request("direct:results",
                e -> e.getMessage().setHeader(OpenAIBatchConstants.BATCH_ID, b.getId()));
        assertThat(r.getException()).isNull();
        assertThat(bodySeen.get()).isInstanceOf(InputStream.class).isNotInstanceOf(StreamCache.class)
                .isNotInstanceOf(java.io.ByteArrayInputStream.class);
        assertThat(lines.get()).isEqualTo(N);
        // the output file is far larger than any buffer of the stream: it was read as it came
        assertThat(bytes.get()).isGreaterThan(10_000_000);
    }
}
