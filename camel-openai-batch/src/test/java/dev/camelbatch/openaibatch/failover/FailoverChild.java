package dev.camelbatch.openaibatch.failover;

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
 * One node of the failover test, in a JVM of its own: it spools requests {@code r-from .. r-(to-1)} (skipping those
 * acknowledged in {@code sent-<group>.log} by an earlier node of its group), records each acknowledgement, and, as a
 * consumer of the same name, writes every delivered result line to {@code results-<label>.log} and every batch event
 * to {@code events-<label>.log}. The store is in the shared database.
 * <p>
 * Arguments: workDir label group baseUrl apiKey jdbcUrl jdbcUser jdbcPassword tablePrefix from to leaseMillis
 */
public final class FailoverChild {

    private FailoverChild() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        String label = args[1];
        String group = args[2];
        String baseUrl = args[3];
        String apiKey = args[4];
        String jdbcUrl = args[5];
        String jdbcUser = args[6];
        String jdbcPassword = args[7];
        String prefix = args[8];
        int from = Integer.parseInt(args[9]);
        int to = Integer.parseInt(args[10]);
        long lease = Long.parseLong(args[11]);

        Path sent = work.resolve("sent-" + group + ".log");
        Set<String> acked = new HashSet<>(readLines(sent));
        FileChannel sentLog = append(sent);
        FileChannel resultLog = append(work.resolve("results-" + label + ".log"));
        FileChannel eventLog = append(work.resolve("events-" + label + ".log"));

        CamelContext context = new DefaultCamelContext();
        context.getRegistry().bind("db", TestDatabases.pooled(jdbcUrl, jdbcUser, jdbcPassword));
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey(apiKey);
        component.getConfiguration().setBaseUrl(baseUrl);
        component.getConfiguration().setStoreDirectory(work.resolve("tmp-" + label).toString());
        component.getConfiguration().setMaxRetries(3);
        component.getConfiguration().setNodeId("node-" + label + "-" + ProcessHandle.current().pid());
        component.getConfiguration().setLeaseDuration(lease);
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                String store = "dataSource=#db&tablePrefix=" + prefix;
                from("direct:in")
                        .to("openai-batch:failover?" + store + "&model=gpt-4o-mini&maxRequestsPerBatch=20"
                            + "&batchTimeout=200&carryHeaders=seq");
                from("openai-batch:failover?" + store + "&pollInterval=20&maxPollInterval=100&maxInFlightBatches=6"
                     + "&batchEvents=true")
                        .process(e -> {
                            String type = e.getMessage().getHeader(OpenAIBatchConstants.EVENT_TYPE, String.class);
                            if (type != null) {
                                write(eventLog, type + " " + e.getMessage().getHeader(OpenAIBatchConstants.SEGMENT_ID)
                                                + "\n");
                                return;
                            }
                            // a route that takes a little time per line (the kill while emitting lands mid-batch)
                            Thread.sleep(5);
                            write(resultLog, e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class)
                                             + " " + e.getMessage().getHeader("seq") + " "
                                             + e.getMessage().getBody(String.class) + "\n");
                        });
            }
        });
        context.start();
        ProducerTemplate template = context.createProducerTemplate();
        for (int i = from; i < to; i++) {
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
            // a duplicate: spooled by an earlier node of the group that died before recording the acknowledgement
            if (failure != null && !(failure instanceof DuplicateCustomIdException)) {
                throw failure;
            }
            write(sentLog, id + "\n");
            if (i % 4 == 0) {
                Thread.sleep(15);
            }
        }
        System.out.println("ALL-SENT " + label);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static FileChannel append(Path p) throws IOException {
        return FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
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
        String all = Files.readString(p);
        int end = all.lastIndexOf('\n');
        return end < 0 ? List.of() : all.substring(0, end).lines().filter(l -> !l.isBlank()).toList();
    }
}
