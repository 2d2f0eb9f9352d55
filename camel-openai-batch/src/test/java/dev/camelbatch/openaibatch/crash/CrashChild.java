package dev.camelbatch.openaibatch.crash;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * The whole loop in a JVM that the crash tests kill with SIGKILL: it sends requests {@code r-0 .. r-(n-1)} at about
 * {@code rate} per second (skipping those acknowledged in an earlier life), records each acknowledgement in
 * {@code sent.log}, and writes every delivered result line to {@code results.log}.
 * <p>
 * Arguments: workDir baseUrl apiKey n order rate [jdbcUrl jdbcUser jdbcPassword tablePrefix]; order is
 * {@code inOrder} or {@code fileOrder}; without the JDBC arguments the file store is used.
 */
public final class CrashChild {

    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        String baseUrl = args[1];
        String apiKey = args[2];
        int n = Integer.parseInt(args[3]);
        boolean inOrder = "inOrder".equals(args[4]);
        int rate = Integer.parseInt(args[5]);
        boolean jdbc = args.length > 9;
        Path sent = work.resolve("sent.log");
        Path results = work.resolve("results.log");
        Set<String> acked = new HashSet<>(readLines(sent));
        FileChannel sentLog = FileChannel.open(sent, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        FileChannel resultLog = FileChannel.open(results, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);

        CamelContext context = new DefaultCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey(apiKey);
        component.getConfiguration().setBaseUrl(baseUrl);
        component.getConfiguration().setStoreDirectory(work.resolve("store").toString());
        component.getConfiguration().setMaxRetries(3);
        String store = "";
        if (jdbc) {
            context.getRegistry().bind("db", TestDatabases.pooled(args[6], args[7], args[8]));
            store = "&dataSource=#db&tablePrefix=" + args[9];
            // a killed life's leases run out soon, so that the next life takes its segments over
            component.getConfiguration().setLeaseDuration(1_500);
        }
        context.addComponent("openai-batch", component);
        String storeOptions = store;
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in")
                        .to("openai-batch:crash?model=gpt-4o-mini&maxRequestsPerBatch=40&batchTimeout=150"
                            + "&carryHeaders=seq" + storeOptions);
                from("openai-batch:crash?pollInterval=20&maxPollInterval=100&maxInFlightBatches=4&emitInOrder="
                     + inOrder + storeOptions)
                        .process(e -> {
                            String line = e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class)
                                          + " " + e.getMessage().getHeader("seq") + " "
                                          + e.getMessage().getHeader(OpenAIBatchConstants.BATCH_ID) + " "
                                          + e.getMessage().getBody(String.class) + "\n";
                            write(resultLog, line);
                            // a route that takes a little time per line: a kill while emitting lands mid-batch
                            Thread.sleep(1);
                        });
            }
        });
        context.start();
        ProducerTemplate template = context.createProducerTemplate();
        long pauseEvery = Math.max(1, rate / 50);
        for (int i = 0; i < n; i++) {
            String id = "r-" + i;
            if (acked.contains(id)) {
                continue;
            }
            final int seq = i;
            Exception failure = template.send("direct:in", ex -> {
                ex.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, id);
                ex.getMessage().setHeader("seq", seq);
                ex.getMessage().setBody("Calculate: 1 + " + seq + " = ");
            }).getException();
            // a duplicate means this request was spooled in an earlier life that died before recording the ack
            if (failure != null && !(failure instanceof DuplicateCustomIdException)) {
                throw failure;
            }
            write(sentLog, id + "\n");
            if (i % pauseEvery == 0) {
                // about `rate` requests a second: the spooling goes on over several lives
                Thread.sleep(20);
            }
        }
        System.out.println("ALL-SENT");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    static void write(FileChannel ch, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        synchronized (ch) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    static List<String> readLines(Path p) throws IOException {
        if (!Files.exists(p)) {
            return List.of();
        }
        return Files.readAllLines(p).stream().filter(l -> !l.isBlank()).toList();
    }
}
