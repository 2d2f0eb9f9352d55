package dev.camelbatch.openaibatch;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Segments are sealed by count, bytes, tokens, an explicit flush, the end of a split and the end of a document; and
 * requests of different models never share a segment. (The time trigger needs the engine: see
 * {@link ProducerWithConsumerTest}.)
 */
@Timeout(300)
class ProducerSealTriggersTest extends CamelTestSupport {

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

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:split").split(body())
                        .to("openai-batch:seal-split?model=gpt-4o-mini&flushOnSplitComplete=true");
                from("direct:split-noflush").split(body())
                        .to("openai-batch:seal-split-off?model=gpt-4o-mini");
            }
        };
    }

    // ------------------------------------------------------------------ helpers

    private String send(String uri, Object body) {
        return send(uri, body, Map.of());
    }

    private String send(String uri, Object body, Map<String, Object> headers) {
        Exchange ex = template.request(uri, e -> {
            e.getMessage().setBody(body);
            e.getMessage().getHeaders().putAll(headers);
        });
        assertThat(ex.getException()).isNull();
        return ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
    }

    private BatchStore store(String uri) throws Exception {
        return Spool.store(context, uri);
    }

    /** Checks that each segment's file holds exactly its counted lines and bytes, and its persisted state. */
    private void assertFilesMatch(String name, BatchStore store) throws Exception {
        Map<String, List<JsonNode>> lines = Spool.linesBySegment(storeDir, name);
        for (SegmentInfo s : store.segments()) {
            assertThat(lines.get(s.getId())).as("lines of %s", s).hasSize(s.getRequestCount());
            Path file = Spool.segmentsDir(storeDir, name).resolve(s.getId() + ".jsonl");
            // a sealed segment's file is exactly its lines (an open one may run on with the zeros of its mapping)
            assertThat(s.getStatus() == SegmentStatus.OPEN ? Spool.dataLength(file) : Files.size(file))
                    .as("bytes of %s", s).isEqualTo(s.getBytes());
            for (JsonNode l : lines.get(s.getId())) {
                assertThat(l.path("body").path("model").asText()).isEqualTo(s.getModel());
            }
            if (s.getStatus() == SegmentStatus.SEALED) {
                SegmentInfo onDisk = Spool.MAPPER.readValue(
                        Spool.segmentsDir(storeDir, name).resolve(s.getId() + ".state.json").toFile(),
                        SegmentInfo.class);
                assertThat(onDisk.getStatus()).isEqualTo(SegmentStatus.SEALED);
                assertThat(onDisk.getSealReason()).isEqualTo(s.getSealReason());
                assertThat(onDisk.getRequestCount()).isEqualTo(s.getRequestCount());
            }
        }
        assertThat(lines.keySet()).containsExactlyInAnyOrderElementsOf(
                store.segments().stream().map(SegmentInfo::getId).toList());
    }

    // ------------------------------------------------------------------ count, bytes, tokens

    @Test
    void maxRequestsPerBatch() throws Exception {
        String uri = "openai-batch:seal-count?model=gpt-4o-mini&maxRequestsPerBatch=3";
        for (int i = 0; i < 7; i++) {
            send(uri, "prompt " + i);
        }
        BatchStore store = store(uri);
        List<SegmentInfo> segs = store.segments();
        assertThat(segs).extracting(SegmentInfo::getStatus)
                .containsExactly(SegmentStatus.SEALED, SegmentStatus.SEALED, SegmentStatus.OPEN);
        assertThat(segs).extracting(SegmentInfo::getRequestCount).containsExactly(3, 3, 1);
        assertThat(segs.subList(0, 2)).extracting(SegmentInfo::getSealReason)
                .containsOnly("maxRequestsPerBatch");
        assertFilesMatch("seal-count", store);
    }

    @Test
    void maxRequestsPerBatchDefaultIsTheHardCapOf50000() throws Exception {
        StringBuilder sb = new StringBuilder(50_001 * 20);
        for (int i = 0; i < 50_001; i++) {
            sb.append("{\"input\":\"w").append(i).append("\"}\n");
        }
        String uri = "openai-batch:seal-cap?endpoint=/v1/embeddings&model=text-embedding-3-small";
        Exchange ex = template.request(uri, e -> e.getMessage().setBody(sb.toString().getBytes(StandardCharsets.UTF_8)));
        assertThat(ex.getException()).isNull();
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(50_001);
        BatchStore store = store(uri);
        List<SegmentInfo> segs = store.segments();
        assertThat(segs).extracting(SegmentInfo::getRequestCount).containsExactly(50_000, 1);
        assertThat(segs.get(0).getStatus()).isEqualTo(SegmentStatus.SEALED);
        assertThat(segs.get(0).getSealReason()).isEqualTo("maxRequestsPerBatch");
        assertFilesMatch("seal-cap", store);
    }

    @Test
    void maxBatchBytes() throws Exception {
        String uri = "openai-batch:seal-bytes?model=gpt-4o-mini&maxBatchBytes=2000";
        for (int i = 0; i < 20; i++) {
            send(uri, String.format("%03d ", i) + "x".repeat(100));
        }
        BatchStore store = store(uri);
        List<SegmentInfo> segs = store.segments();
        List<SegmentInfo> sealed = Spool.withStatus(store, SegmentStatus.SEALED);
        assertThat(sealed).hasSizeGreaterThanOrEqualTo(2);
        assertThat(sealed).extracting(SegmentInfo::getSealReason).containsOnly("maxBatchBytes");
        long lineBytes = segs.get(0).getBytes() / segs.get(0).getRequestCount(); // all lines have the same size
        for (SegmentInfo s : segs) {
            assertThat(s.getBytes()).isLessThanOrEqualTo(2000);
        }
        for (SegmentInfo s : sealed) {
            // sealed because the next line would not have fitted
            assertThat(s.getBytes() + lineBytes).isGreaterThan(2000);
        }
        assertThat(segs.stream().mapToInt(SegmentInfo::getRequestCount).sum()).isEqualTo(20);
        assertFilesMatch("seal-bytes", store);
    }

    @Test
    void maxBatchTokensEstimatedWithJtokkit() throws Exception {
        String uri = "openai-batch:seal-tokens?model=gpt-4o-mini&maxBatchTokens=100";
        for (int i = 0; i < 10; i++) {
            send(uri, "Please summarise the following customer review in one short sentence: the parcel " + i
                      + " arrived late but intact.");
        }
        BatchStore store = store(uri);
        List<SegmentInfo> segs = store.segments();
        List<SegmentInfo> sealed = Spool.withStatus(store, SegmentStatus.SEALED);
        // each request is 28 tokens in o200k_base (fixed reference, see TokenEstimatorTest): the prompt's 21, "user"
        // 1, 3 for the message and 3 for the reply; three fit under 100, a fourth would not
        int perRequest = 21 + 1 + 3 + 3;
        assertThat(sealed).hasSize(3).allSatisfy(s -> assertThat(s.getRequestCount()).isEqualTo(3));
        assertThat(sealed).extracting(SegmentInfo::getSealReason).containsOnly("maxBatchTokens");
        Map<String, List<JsonNode>> lines = Spool.linesBySegment(storeDir, "seal-tokens");
        for (SegmentInfo s : segs) {
            assertThat(lines.get(s.getId())).hasSize(s.getRequestCount());
            assertThat(s.getTokens()).as("tokens of %s", s).isEqualTo((long) perRequest * s.getRequestCount())
                    .isLessThanOrEqualTo(100);
        }
        assertThat(segs.stream().mapToInt(SegmentInfo::getRequestCount).sum()).isEqualTo(10);
        assertFilesMatch("seal-tokens", store);
    }

    @Test
    void withoutATriggerTheSegmentStaysOpen() throws Exception {
        String uri = "openai-batch:seal-none?model=gpt-4o-mini";
        for (int i = 0; i < 5; i++) {
            send(uri, "p" + i);
        }
        BatchStore store = store(uri);
        assertThat(store.segments()).singleElement().satisfies(s -> {
            assertThat(s.getStatus()).isEqualTo(SegmentStatus.OPEN);
            assertThat(s.getRequestCount()).isEqualTo(5);
        });
    }

    // ------------------------------------------------------------------ explicit flush, split, document

    @Test
    void flushHeader() throws Exception {
        String uri = "openai-batch:seal-flush?model=gpt-4o-mini";
        send(uri, "one");
        send(uri, "two", Map.of(OpenAIBatchConstants.FLUSH, false));
        send(uri, "other model", Map.of(OpenAIBatchConstants.MODEL, "gpt-4o"));
        BatchStore store = store(uri);
        assertThat(store.segments()).extracting(SegmentInfo::getStatus).containsOnly(SegmentStatus.OPEN);
        send(uri, "three", Map.of(OpenAIBatchConstants.FLUSH, "true"));
        List<SegmentInfo> segs = store.segments();
        // the flush seals every open segment of the name
        assertThat(segs).extracting(SegmentInfo::getStatus).containsOnly(SegmentStatus.SEALED);
        assertThat(segs).extracting(SegmentInfo::getSealReason).containsOnly("flush");
        assertThat(segs).extracting(SegmentInfo::getModel, SegmentInfo::getRequestCount)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("gpt-4o-mini", 3),
                        org.assertj.core.groups.Tuple.tuple("gpt-4o", 1));
        // the next request opens a new segment
        send(uri, "four");
        assertThat(Spool.withStatus(store, SegmentStatus.OPEN)).singleElement()
                .satisfies(s -> assertThat(s.getRequestCount()).isEqualTo(1));
        assertFilesMatch("seal-flush", store);
    }

    /** A flush on its own, e.g. from a timer route: an exchange without a body that has the flush header. */
    @Test
    void flushWithoutARequest() throws Exception {
        String uri = "openai-batch:seal-flush-only?model=gpt-4o-mini";
        send(uri, "one");
        send(uri, "two", Map.of(OpenAIBatchConstants.MODEL, "gpt-4o"));
        BatchStore store = store(uri);
        Exchange flush = template.request(uri, e -> e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true));
        assertThat(flush.getException()).isNull();
        assertThat(flush.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(0);
        assertThat(store.segments()).hasSize(2).allSatisfy(s -> {
            assertThat(s.getStatus()).isEqualTo(SegmentStatus.SEALED);
            assertThat(s.getSealReason()).isEqualTo("flush");
            assertThat(s.getRequestCount()).isEqualTo(1);
        });
        // nothing open: a second flush is a no-op; without the header an empty body is still an error
        assertThat(template.request(uri, e -> e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true))
                .getException()).isNull();
        assertThat(template.request(uri, e -> e.getMessage().setBody(null)).getException())
                .isInstanceOf(dev.camelbatch.openaibatch.engine.lines.InvalidRequestException.class);
        assertThat(Spool.customIds(storeDir, "seal-flush-only")).hasSize(2);
        assertFilesMatch("seal-flush-only", store);
    }

    @Test
    void flushOnSplitComplete() throws Exception {
        template.sendBody("direct:split", List.of("a", "b", "c", "d", "e"));
        BatchStore store = store("openai-batch:seal-split?model=gpt-4o-mini&flushOnSplitComplete=true");
        assertThat(store.segments()).singleElement().satisfies(s -> {
            assertThat(s.getStatus()).isEqualTo(SegmentStatus.SEALED);
            assertThat(s.getSealReason()).isEqualTo("flush");
            assertThat(s.getRequestCount()).isEqualTo(5);
        });
        template.sendBody("direct:split", List.of("f", "g", "h"));
        assertThat(store.segments()).extracting(SegmentInfo::getStatus, SegmentInfo::getRequestCount)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(SegmentStatus.SEALED, 5),
                        org.assertj.core.groups.Tuple.tuple(SegmentStatus.SEALED, 3));
        assertFilesMatch("seal-split", store);

        // without the option the end of the split seals nothing
        template.sendBody("direct:split-noflush", List.of("a", "b", "c"));
        BatchStore off = store("openai-batch:seal-split-off?model=gpt-4o-mini");
        assertThat(off.segments()).singleElement()
                .satisfies(s -> assertThat(s.getStatus()).isEqualTo(SegmentStatus.OPEN));
    }

    @Test
    void flushOnDocumentEnd() throws Exception {
        String uri = "openai-batch:seal-doc?model=gpt-4o-mini&flushOnDocumentEnd=true";
        send(uri, "a single request before the document");
        StringBuilder doc = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            doc.append("{\"messages\":[{\"role\":\"user\",\"content\":\"line ").append(i).append("\"}]}\n");
        }
        Exchange ex = template.request(uri, e -> e.getMessage().setBody(doc.toString().getBytes(StandardCharsets.UTF_8)));
        assertThat(ex.getException()).isNull();
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(4);
        BatchStore store = store(uri);
        Map<String, List<JsonNode>> lines = Spool.linesBySegment(storeDir, "seal-doc");
        for (SegmentInfo s : store.segments()) {
            boolean hasDocLine = lines.get(s.getId()).stream()
                    .anyMatch(l -> l.path("body").path("messages").path(0).path("content").asText()
                            .startsWith("line "));
            if (hasDocLine) {
                assertThat(s.getStatus()).as("%s", s).isEqualTo(SegmentStatus.SEALED);
                assertThat(s.getSealReason()).isEqualTo("flush");
            }
        }
        assertThat(store.segments().stream().mapToInt(SegmentInfo::getRequestCount).sum()).isEqualTo(5);
        assertFilesMatch("seal-doc", store);

        // without the option the document's requests may wait for more
        String uri2 = "openai-batch:seal-doc-off?model=gpt-4o-mini";
        template.request(uri2, e -> e.getMessage().setBody(doc.toString().getBytes(StandardCharsets.UTF_8)));
        assertThat(store(uri2).segments()).singleElement()
                .satisfies(s -> assertThat(s.getStatus()).isEqualTo(SegmentStatus.OPEN));
    }

    // ------------------------------------------------------------------ grouping by model

    @Test
    void differentModelsNeverShareASegment() throws Exception {
        String uri = "openai-batch:seal-models?model=gpt-4o-mini&maxRequestsPerBatch=4";
        String[] models = { null, "gpt-4o", "gpt-4.1-nano" };
        for (int i = 0; i < 20; i++) {
            String m = models[i % 3];
            if (i % 5 == 0) {
                // model in the body
                send(uri, Map.of("model", "o3-mini", "messages", List.of(Map.of("role", "user", "content", "b" + i))));
            } else if (m == null) {
                send(uri, "p" + i);
            } else {
                send(uri, "p" + i, Map.of(OpenAIBatchConstants.MODEL, m));
            }
        }
        // a document mixing models
        String doc = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n{\"model\":\"o3-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n";
        template.request(uri, e -> e.getMessage().setBody(doc.getBytes(StandardCharsets.UTF_8)));
        BatchStore store = store(uri);
        Map<String, List<JsonNode>> lines = Spool.linesBySegment(storeDir, "seal-models");
        Set<String> seen = new HashSet<>();
        for (SegmentInfo s : store.segments()) {
            List<String> lineModels = new ArrayList<>();
            for (JsonNode l : lines.get(s.getId())) {
                lineModels.add(l.path("body").path("model").asText());
            }
            assertThat(lineModels).as("models in %s", s.getId()).containsOnly(s.getModel());
            seen.add(s.getModel());
        }
        assertThat(seen).containsExactlyInAnyOrder("gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "o3-mini");
        // at most one open segment per model
        assertThat(Spool.withStatus(store, SegmentStatus.OPEN)).extracting(SegmentInfo::getModel)
                .doesNotHaveDuplicates();
        assertThat(store.segments().stream().mapToInt(SegmentInfo::getRequestCount).sum()).isEqualTo(23);
        assertFilesMatch("seal-models", store);
    }
}
