package dev.camelbatch.openaibatch;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * The child JVM of {@link ProducerCrashTest}: a CamelContext with only a producer route, and two threads that send
 * requests in a loop and print {@code ACK <custom_id>} (flushed) after each {@code request} returned, and a third
 * that sends small JSONL documents and acknowledges all their lines when the request returned. It runs until it is
 * killed.
 * <p>
 * Arguments: storeDirectory idPrefix
 */
public final class ProducerCrashChild {

    static final String NAME = "crash";
    static final String URI = "openai-batch:" + NAME + "?model=gpt-4o-mini&maxRequestsPerBatch=700"
                              + "&carryHeaders=seq,Crash*";

    static final int DOC_LINES = 40;

    private ProducerCrashChild() {
    }

    /** Sends JSONL documents of {@link #DOC_LINES} lines; after each returns, acknowledges every line's id. */
    private static void sendDocuments(CamelContext context, String prefix, PrintStream out, AtomicBoolean failed) {
        ProducerTemplate template = context.createProducerTemplate();
        for (long d = 0; !failed.get(); d++) {
            StringBuilder doc = new StringBuilder();
            for (int l = 0; l < DOC_LINES; l++) {
                doc.append("{\"custom_id\":\"").append(prefix).append("d-").append(d).append('-').append(l)
                        .append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":"
                                + "[{\"role\":\"user\",\"content\":\"document line\"}]}}\n");
            }
            long docNo = d;
            Exchange ex = template.request("direct:in", e -> {
                e.getMessage().setBody(doc.toString().getBytes(StandardCharsets.UTF_8));
                e.getMessage().setHeader("seq", docNo);
            });
            synchronized (out) {
                if (ex.getException() != null) {
                    out.println("ERR document " + d + " " + ex.getException());
                    failed.set(true);
                } else {
                    for (int l = 0; l < DOC_LINES; l++) {
                        out.println("ACK " + prefix + "d-" + d + "-" + l);
                    }
                }
                out.flush();
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String storeDir = args[0];
        String prefix = args[1];
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
                StandardCharsets.UTF_8);
        CamelContext context = new DefaultCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setStoreDirectory(storeDir);
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to(URI);
            }
        });
        context.start();
        AtomicBoolean failed = new AtomicBoolean();
        Thread[] threads = new Thread[3];
        threads[2] = new Thread(() -> sendDocuments(context, prefix, out, failed), "documents");
        threads[2].start();
        for (int t = 0; t < 2; t++) {
            int thread = t;
            threads[t] = new Thread(() -> {
                ProducerTemplate template = context.createProducerTemplate();
                for (long i = 0; !failed.get(); i++) {
                    String id = prefix + thread + "-" + i;
                    long seq = i;
                    Exchange ex = template.request("direct:in", e -> {
                        // prompts of varying length, so that lines differ in size
                        e.getMessage().setBody("Request " + id + " " + "x".repeat((int) (seq % 300)));
                        e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, id);
                        e.getMessage().setHeader("seq", seq);
                        e.getMessage().setHeader("CrashThread", thread);
                        // every 50th request seals the open segment
                        e.getMessage().setHeader(OpenAIBatchConstants.FLUSH, seq % 50 == 49);
                    });
                    synchronized (out) {
                        if (ex.getException() != null) {
                            out.println("ERR " + id + " " + ex.getException());
                            failed.set(true);
                        } else {
                            out.println("ACK " + ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID));
                        }
                        out.flush();
                    }
                }
            }, "sender-" + t);
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        context.stop();
        System.exit(1);
    }
}
