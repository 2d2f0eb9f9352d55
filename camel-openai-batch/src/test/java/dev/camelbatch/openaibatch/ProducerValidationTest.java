package dev.camelbatch.openaibatch;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import dev.camelbatch.openaibatch.engine.store.file.FileBatchStore;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Each validation error fails only its own exchange with a specific exception that names the field and the limit;
 * nothing of the bad request is stored and the next valid request succeeds.
 */
@Timeout(300)
class ProducerValidationTest extends CamelTestSupport {

    @TempDir
    static Path storeDir;

    @TempDir
    static Path files;

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
                from("file:" + files.resolve("inbox") + "?initialDelay=0&delay=50&include=.*\\.jsonl"
                     + "&moveFailed=" + files.resolve("error") + "&move=" + files.resolve("done"))
                        .to("openai-batch:val-file?model=gpt-4o-mini")
                        .to("mock:file-done");
            }
        };
    }

    // ------------------------------------------------------------------ helpers

    private Exchange request(String uri, Processor p) {
        return template.request(uri, p);
    }

    /** A failed exchange's exception, asserted to be of the type, with the message parts. */
    private <T extends Exception> T failed(Exchange ex, Class<T> type, String... messageParts) {
        assertThat(ex.getException()).as("exchange must fail").isNotNull();
        assertThat(ex.getException()).isInstanceOf(type);
        for (String part : messageParts) {
            assertThat(ex.getException().getMessage()).contains(part);
        }
        return type.cast(ex.getException());
    }

    /** Sends a valid prompt with the given id, asserts it succeeds and the spool holds exactly the expected ids. */
    private void validFollowsAndOnlyIt(String name, String options, String id, String... expectedIds) {
        Exchange ok = request("openai-batch:" + name + "?" + options, e -> {
            e.getMessage().setBody("a valid prompt");
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, id);
        });
        assertThat(ok.getException()).isNull();
        assertThat(Spool.customIds(storeDir, name)).containsExactlyInAnyOrder(expectedIds);
    }

    private static Map<String, Object> line(String id, String method, String url, Map<String, Object> body) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("custom_id", id);
        m.put("method", method);
        m.put("url", url);
        m.put("body", body);
        return m;
    }

    private static Map<String, Object> chatBody(String model) {
        Map<String, Object> b = new LinkedHashMap<>();
        if (model != null) {
            b.put("model", model);
        }
        b.put("messages", List.of(Map.of("role", "user", "content", "hi")));
        return b;
    }

    // ------------------------------------------------------------------ single requests

    /** Jackson cannot serialise a self-reference. */
    public static class Cyclic {
        public String name = "loop";
        public Cyclic self = this;
    }

    /** A getter that fails while serialising. */
    public static class Exploding {
        public String getMessages() {
            throw new IllegalStateException("boom");
        }
    }

    @Test
    void bodyNotSerialisableToJson() {
        String opts = "model=gpt-4o-mini";
        failed(request("openai-batch:val-json?" + opts, e -> e.getMessage().setBody(new Cyclic())),
                InvalidRequestException.class, "body", Cyclic.class.getName(), "cannot be serialised to JSON");
        InvalidRequestException e2 = failed(request("openai-batch:val-json?" + opts,
                e -> e.getMessage().setBody(new Exploding())), InvalidRequestException.class,
                "cannot be serialised to JSON");
        assertThat(e2.getField()).isEqualTo("body");
        validFollowsAndOnlyIt("val-json", opts, "ok-json", "ok-json");
    }

    @Test
    void modelMissing() {
        InvalidRequestException e = failed(request("openai-batch:val-model", ex -> ex.getMessage().setBody("hi")),
                InvalidRequestException.class, "model is missing");
        assertThat(e.getField()).isEqualTo("body.model");
        // a blank model is missing too
        failed(request("openai-batch:val-model", ex -> ex.getMessage().setBody(chatBody("  "))),
                InvalidRequestException.class, "model");
        validFollowsAndOnlyIt("val-model", "model=gpt-4o-mini", "ok-model", "ok-model");
    }

    @Test
    void streamTrue() {
        Map<String, Object> body = chatBody("gpt-4o-mini");
        body.put("stream", true);
        InvalidRequestException e = failed(request("openai-batch:val-stream", ex -> ex.getMessage().setBody(body)),
                InvalidRequestException.class, "stream");
        assertThat(e.getField()).isEqualTo("body.stream");
        // the same inside a ready request line and inside a document
        failed(request("openai-batch:val-stream", ex -> ex.getMessage().setBody(
                line("s-1", "POST", "/v1/chat/completions", body))), InvalidRequestException.class, "stream");
        failed(request("openai-batch:val-stream", ex -> ex.getMessage().setBody(
                "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n".getBytes(StandardCharsets.UTF_8))),
                InvalidRequestException.class, "line 1", "stream");
        validFollowsAndOnlyIt("val-stream", "model=gpt-4o-mini", "ok-stream", "ok-stream");
    }

    @Test
    void urlDiffersFromTheEndpoint() {
        InvalidRequestException e = failed(request("openai-batch:val-url?model=gpt-4o-mini",
                ex -> ex.getMessage().setBody(line("u-1", "POST", "/v1/embeddings", chatBody(null)))),
                InvalidRequestException.class, "/v1/embeddings", "/v1/chat/completions");
        assertThat(e.getField()).isEqualTo("url");
        validFollowsAndOnlyIt("val-url", "model=gpt-4o-mini", "ok-url", "ok-url");
        assertThat(Spool.customIds(storeDir, "val-url")).doesNotContain("u-1");
    }

    @Test
    void methodOtherThanPost() {
        InvalidRequestException e = failed(request("openai-batch:val-method?model=gpt-4o-mini",
                ex -> ex.getMessage().setBody(line("m-1", "GET", "/v1/chat/completions", chatBody(null)))),
                InvalidRequestException.class, "method must be POST", "GET");
        assertThat(e.getField()).isEqualTo("method");
        validFollowsAndOnlyIt("val-method", "model=gpt-4o-mini", "ok-method", "ok-method");
    }

    @Test
    void singleRequestLargerThanMaxBatchBytes() {
        String opts = "model=gpt-4o-mini&maxBatchBytes=600";
        InvalidRequestException e = failed(request("openai-batch:val-big?" + opts,
                ex -> ex.getMessage().setBody("x".repeat(1000))), InvalidRequestException.class,
                "over the batch byte limit of 600 bytes");
        assertThat(e.getField()).isEqualTo("body");
        // the same line in a document: refused with its line number
        byte[] doc = ("{\"messages\":[{\"role\":\"user\",\"content\":\"ok\"}]}\n"
                      + "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "y".repeat(1000) + "\"}]}\n")
                .getBytes(StandardCharsets.UTF_8);
        failed(request("openai-batch:val-big?" + opts, ex -> ex.getMessage().setBody(doc)),
                InvalidRequestException.class, "line 2", "600");
        validFollowsAndOnlyIt("val-big", opts, "ok-big", "ok-big");
    }

    @Test
    void duplicateCustomIdOfASpooledRequest() {
        String uri = "openai-batch:val-dup?model=gpt-4o-mini";
        Exchange first = request(uri, e -> {
            e.getMessage().setBody("first");
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "dup-1");
        });
        assertThat(first.getException()).isNull();
        DuplicateCustomIdException d = failed(request(uri, e -> {
            e.getMessage().setBody("second");
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "dup-1");
        }), DuplicateCustomIdException.class, "dup-1", "val-dup");
        assertThat(d.getCustomId()).isEqualTo("dup-1");
        // the same id from a ready line, and from another endpoint URI of the same name
        failed(request(uri, e -> e.getMessage().setBody(line("dup-1", "POST", "/v1/chat/completions",
                chatBody(null)))), DuplicateCustomIdException.class, "dup-1");
        failed(request("openai-batch:val-dup?model=other-model&carryHeaders=x", e -> {
            e.getMessage().setBody("third");
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "dup-1");
        }), DuplicateCustomIdException.class, "dup-1");
        // in a sealed segment too
        Exchange flush = request(uri, e -> {
            e.getMessage().setBody("flush");
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "dup-2");
            e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true);
        });
        assertThat(flush.getException()).isNull();
        failed(request(uri, e -> {
            e.getMessage().setBody("again");
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "dup-2");
        }), DuplicateCustomIdException.class, "dup-2");
        // a document that repeats a spooled id is refused as a whole
        byte[] doc = ("{\"custom_id\":\"dup-doc-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                      + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n"
                      + "{\"custom_id\":\"dup-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                      + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n").getBytes(StandardCharsets.UTF_8);
        InvalidRequestException docEx = failed(request(uri, e -> e.getMessage().setBody(doc)),
                InvalidRequestException.class, "line 2", "dup-1");
        assertThat(docEx.getField()).isEqualTo("custom_id");
        // and one that repeats an id within itself
        byte[] doc2 = ("{\"custom_id\":\"dup-doc-2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                       + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n"
                       + "{\"custom_id\":\"dup-doc-2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                       + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n").getBytes(StandardCharsets.UTF_8);
        failed(request(uri, e -> e.getMessage().setBody(doc2)), InvalidRequestException.class, "line 2",
                "dup-doc-2");
        validFollowsAndOnlyIt("val-dup", "model=gpt-4o-mini", "ok-dup", "dup-1", "dup-2", "ok-dup");
    }

    /**
     * A document being spooled holds its custom ids already: a single request (or another document) with one of them
     * that arrives meanwhile must not end up in the spool beside it.
     */
    @Test
    void duplicateCustomIdBetweenADocumentInProgressAndASingleRequest() throws Exception {
        String uri = "openai-batch:val-race?model=gpt-4o-mini";
        String first = "{\"custom_id\":\"race-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                       + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n";
        String second = "{\"custom_id\":\"race-2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                        + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n";
        java.util.concurrent.CountDownLatch firstLineRead = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch goOn = new java.util.concurrent.CountDownLatch(1);
        // a stream that gives the first line, then waits until the single request has been sent
        java.io.InputStream slow = new java.io.InputStream() {
            private final byte[][] parts = { first.getBytes(StandardCharsets.UTF_8),
                                             second.getBytes(StandardCharsets.UTF_8) };
            private int part;
            private int pos;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (part >= parts.length) {
                    return -1;
                }
                if (part == 1 && pos == 0) {
                    firstLineRead.countDown();
                    try {
                        goOn.await(10, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                int n = Math.min(len, parts[part].length - pos);
                System.arraycopy(parts[part], pos, b, off, n);
                pos += n;
                if (pos == parts[part].length) {
                    part++;
                    pos = 0;
                }
                return n;
            }
        };
        java.util.concurrent.CompletableFuture<Exchange> doc = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> request(uri, e -> e.getMessage().setBody(slow)));
        assertThat(firstLineRead.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        Exchange single = request(uri, e -> {
            e.getMessage().setBody("single");
            e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "race-1");
        });
        goOn.countDown();
        Exchange docEx = doc.get(10, java.util.concurrent.TimeUnit.SECONDS);
        // exactly one of the two holds race-1
        assertThat(single.getException() == null ^ docEx.getException() == null)
                .as("one succeeds, one fails: single=%s, document=%s", single.getException(), docEx.getException())
                .isTrue();
        Exception failure = single.getException() != null ? single.getException() : docEx.getException();
        assertThat(failure).isInstanceOfAny(DuplicateCustomIdException.class, InvalidRequestException.class)
                .hasMessageContaining("race-1");
        assertThat(Spool.customIds(storeDir, "val-race")).containsOnlyOnce("race-1");
        validFollowsAndOnlyIt("val-race", "model=gpt-4o-mini", "ok-race",
                docEx.getException() == null ? new String[] { "race-1", "race-2", "ok-race" }
                                             : new String[] { "race-1", "ok-race" });
    }

    @Test
    void badJsonInADocumentRefusesTheWholeDocument() {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 5; i++) {
            sb.append("{\"custom_id\":\"bad-doc-").append(i)
                    .append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n");
        }
        sb.append("{\"custom_id\":\"bad-doc-6\",\"method\":\"POST\",\"url\": oops}\n");
        sb.append("{\"custom_id\":\"bad-doc-7\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                  + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n");
        byte[] doc = sb.toString().getBytes(StandardCharsets.UTF_8);
        InvalidRequestException e = failed(request("openai-batch:val-doc?model=gpt-4o-mini",
                ex -> ex.getMessage().setBody(doc)), InvalidRequestException.class, "line 6", "not valid JSON");
        assertThat(e.getLineNumber()).isEqualTo(6);
        // nothing of the document is stored, not even its good first lines
        assertThat(Spool.customIds(storeDir, "val-doc")).isEmpty();
        // a document that is not JSON objects at all, and an empty one
        failed(request("openai-batch:val-doc?model=gpt-4o-mini",
                ex -> ex.getMessage().setBody("[1,2]\n".getBytes(StandardCharsets.UTF_8))),
                InvalidRequestException.class, "line 1");
        failed(request("openai-batch:val-doc?model=gpt-4o-mini",
                ex -> ex.getMessage().setBody("\n\n".getBytes(StandardCharsets.UTF_8))),
                InvalidRequestException.class, "no request lines");
        // the same document with the bad line fixed goes in whole
        Exchange ok = request("openai-batch:val-doc?model=gpt-4o-mini",
                ex -> ex.getMessage().setBody(sb.toString().replace("\"url\": oops}",
                        "\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}").getBytes(StandardCharsets.UTF_8)));
        assertThat(ok.getException()).isNull();
        assertThat(ok.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(7);
        assertThat(Spool.customIds(storeDir, "val-doc")).hasSize(7);
    }

    @Test
    void badDocumentFromAFileRouteGoesToTheErrorFolder() throws Exception {
        MockEndpoint done = getMockEndpoint("mock:file-done");
        done.expectedMessageCount(1);
        Path inbox = files.resolve("inbox");
        Files.createDirectories(inbox);
        String good = "{\"custom_id\":\"f-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                      + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n";
        Files.writeString(files.resolve("bad.tmp"), good + "not json\n");
        Files.move(files.resolve("bad.tmp"), inbox.resolve("bad.jsonl"));
        await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> Files.exists(files.resolve("error").resolve("bad.jsonl")));
        assertThat(Spool.customIds(storeDir, "val-file")).isEmpty();
        Files.writeString(files.resolve("good.tmp"), good);
        Files.move(files.resolve("good.tmp"), inbox.resolve("good.jsonl"));
        done.assertIsSatisfied(10_000);
        await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> Files.exists(files.resolve("done").resolve("good.jsonl")));
        assertThat(Spool.customIds(storeDir, "val-file")).containsExactly("f-1");
    }

    @Test
    void embeddingsRequestOverFiftyThousandInputs() {
        String opts = "endpoint=/v1/embeddings&model=text-embedding-3-small";
        List<String> inputs = new ArrayList<>();
        for (int i = 0; i < 50_001; i++) {
            inputs.add("t" + i);
        }
        InvalidRequestException e = failed(request("openai-batch:val-emb?" + opts,
                ex -> ex.getMessage().setBody(inputs)), InvalidRequestException.class, "50001", "50000");
        assertThat(e.getField()).isEqualTo("body.input");
        // exactly 50 000 is allowed
        Exchange ok = request("openai-batch:val-emb?" + opts, ex -> {
            ex.getMessage().setBody(inputs.subList(0, 50_000));
            ex.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "emb-50000");
        });
        assertThat(ok.getException()).isNull();
        validFollowsAndOnlyIt("val-emb", opts, "ok-emb", "emb-50000", "ok-emb");
    }

    @Test
    void nonUtf8BytesInADocument() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(("{\"custom_id\":\"u8-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                   + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n").getBytes(StandardCharsets.UTF_8));
        out.write("{\"custom_id\":\"u8-2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"caf"
                .getBytes(StandardCharsets.UTF_8));
        out.write(0xE9); // ISO-8859-1 'é', not UTF-8
        out.write("\"}]}}\n".getBytes(StandardCharsets.UTF_8));
        byte[] doc = out.toByteArray();
        InvalidRequestException e = failed(request("openai-batch:val-utf8?model=gpt-4o-mini",
                ex -> ex.getMessage().setBody(doc)), InvalidRequestException.class, "line 2", "UTF-8");
        assertThat(e.getLineNumber()).isEqualTo(2);
        assertThat(Spool.customIds(storeDir, "val-utf8")).isEmpty();
        validFollowsAndOnlyIt("val-utf8", "model=gpt-4o-mini", "ok-utf8", "ok-utf8");
    }

    @Test
    void carriedHeaderThatCannotBeStoredFaithfully() {
        String opts = "model=gpt-4o-mini&carryHeaders=ticketId,Review*";
        InvalidRequestException e = failed(request("openai-batch:val-carry?" + opts, ex -> {
            ex.getMessage().setBody("hi");
            ex.getMessage().setHeader("ticketId", new Date());
        }), InvalidRequestException.class, "ticketId", "java.util.Date");
        assertThat(e.getField()).isEqualTo("header.ticketId");
        failed(request("openai-batch:val-carry?" + opts, ex -> {
            ex.getMessage().setBody("hi");
            ex.getMessage().setHeader("ReviewPayload", new Object());
        }), InvalidRequestException.class, "ReviewPayload", "java.lang.Object");
        // a document with such a header is refused too
        failed(request("openai-batch:val-carry?" + opts, ex -> {
            ex.getMessage().setBody(("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n").getBytes(StandardCharsets.UTF_8));
            ex.getMessage().setHeader("ticketId", List.of(1, 2));
        }), InvalidRequestException.class, "ticketId");
        // headers that are not carried may hold anything
        Exchange ok = request("openai-batch:val-carry?" + opts, ex -> {
            ex.getMessage().setBody("hi");
            ex.getMessage().setHeader("other", new Date());
            ex.getMessage().setHeader("ticketId", 7L);
            ex.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "ok-carry-1");
        });
        assertThat(ok.getException()).isNull();
        validFollowsAndOnlyIt("val-carry", opts, "ok-carry-2", "ok-carry-1", "ok-carry-2");
    }

    @Test
    void invalidCustomIdHeader() {
        String uri = "openai-batch:val-cid?model=gpt-4o-mini";
        failed(request(uri, ex -> {
            ex.getMessage().setBody("hi");
            ex.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "x".repeat(513));
        }), InvalidRequestException.class, "custom_id", "512");
        failed(request(uri, ex -> {
            ex.getMessage().setBody("hi");
            ex.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "");
        }), InvalidRequestException.class, OpenAIBatchConstants.CUSTOM_ID);
        validFollowsAndOnlyIt("val-cid", "model=gpt-4o-mini", "ok-cid", "ok-cid");
    }

    /**
     * An invalid option is a configuration error: the producer cannot start, so the send fails (a route with such an
     * endpoint fails to start) with an exception that names the option and what is allowed, and holds no store.
     */
    @Test
    void invalidEndpointOption() throws Exception {
        assertThatThrownBy(() -> template.request("openai-batch:val-endpoint?model=gpt-4o-mini"
                                                  + "&endpoint=/v1/images/generations",
                e -> e.getMessage().setBody("hi")))
                .rootCause().isInstanceOf(InvalidRequestException.class)
                .hasMessageContainingAll("/v1/images/generations", "/v1/chat/completions", "/v1/embeddings",
                        "/v1/responses", "/v1/completions", "/v1/moderations")
                .satisfies(t -> assertThat(((InvalidRequestException) t).getField()).isEqualTo("endpoint"));
        Exchange ok = request("openai-batch:val-endpoint2?model=gpt-4o-mini&endpoint=/v1/embeddings",
                e -> e.getMessage().setBody("hi"));
        assertThat(ok.getException()).isNull();
        assertStoreNotHeld("val-endpoint");
    }

    @Test
    void invalidLimitOptions() throws Exception {
        for (String opt : List.of("maxRequestsPerBatch=50001", "maxRequestsPerBatch=0",
                "maxBatchBytes=" + (200L * 1024 * 1024 + 1), "maxBatchTokens=-1", "batchTimeout=-5",
                "tokenEncoding=nope&maxBatchTokens=10")) {
            assertThatThrownBy(() -> template.request("openai-batch:val-limits?model=gpt-4o-mini&" + opt,
                    e -> e.getMessage().setBody("hi")))
                    .as(opt)
                    .rootCause().isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(opt.substring(0, opt.indexOf('=')).replace("tokenEncoding", "nope"));
        }
        assertThat(Spool.customIds(storeDir, "val-limits")).isEmpty();
        assertStoreNotHeld("val-limits");
    }

    /** A producer that failed to start left no store open: another store instance can take the directory. */
    private void assertStoreNotHeld(String name) throws Exception {
        context.stop();
        FileBatchStore store = new FileBatchStore(storeDir, name, SyncPolicy.NEVER, 1000,
                dev.camelbatch.openaibatch.api.OpenAIJson.mapper());
        store.start();
        store.close();
    }

    @Test
    void emptyBody() {
        failed(request("openai-batch:val-empty?model=gpt-4o-mini", ex -> ex.getMessage().setBody(null)),
                InvalidRequestException.class, "empty");
        assertThatThrownBy(() -> template.requestBody("openai-batch:val-empty?model=gpt-4o-mini", (Object) null))
                .hasRootCauseInstanceOf(InvalidRequestException.class);
        validFollowsAndOnlyIt("val-empty", "model=gpt-4o-mini", "ok-empty", "ok-empty");
    }
}
