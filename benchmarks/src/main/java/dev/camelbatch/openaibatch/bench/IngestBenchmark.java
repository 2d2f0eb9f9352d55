package dev.camelbatch.openaibatch.bench;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * Ingest benchmark: requests per second into the spool against the plain-Jackson limit, measured side by
 * side in the same run, with the peak heap.
 * <ul>
 * <li>(a) N chat requests of about 500 bytes sent as separate exchanges through a route, against plain Jackson
 * serialising the same bodies as JSONL lines into a buffered file;</li>
 * <li>(b) one JSONL document of N lines dropped as a single exchange, against plain Jackson reading, parsing and
 * rewriting the same lines.</li>
 * </ul>
 * Arguments: {@code [requests=1000000] [scenario=a|b|both] [syncPolicy=INTERVAL] [store=file|postgres] [threads=1]}:
 * {@code store=postgres} spools into the JDBC store on the PostgreSQL server named by {@code OPENAI_BATCH_TEST_JDBC_URL}
 * ({@code _USER}, {@code _PASSWORD}), in tables of its own that are dropped at the end; {@code threads} sends the
 * requests of (a) from that many threads.
 */
public final class IngestBenchmark {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private IngestBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        // positional: requests, scenario, syncPolicy; options anywhere: store=file|postgres, threads=N
        List<String> positional = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("store=")) {
                store = a.substring(6);
            } else if (a.startsWith("threads=")) {
                threads = Integer.parseInt(a.substring(8));
            } else {
                positional.add(a);
            }
        }
        int n = positional.size() > 0 ? Integer.parseInt(positional.get(0).replace("_", "")) : 1_000_000;
        String scenario = positional.size() > 1 ? positional.get(1) : "both";
        String sync = positional.size() > 2 ? positional.get(2) : "INTERVAL";
        Path dir = Files.createTempDirectory("openai-batch-ingest-");
        if ("postgres".equals(store)) {
            dataSource = postgres();
            tablePrefix = "bench_" + Long.toString(System.currentTimeMillis(), 36) + "_";
        } else if (!"file".equals(store)) {
            throw new IllegalArgumentException("store must be file or postgres, was " + store);
        }
        System.out.printf("ingest benchmark: %,d requests, syncPolicy=%s, store=%s%s, threads=%d, %s, dir %s%n", n,
                sync, store, dataSource != null ? " (" + System.getenv("OPENAI_BATCH_TEST_JDBC_URL") + ", tables "
                        + tablePrefix + "*)" : "", threads, HeapMeter.machine(), dir);
        try {
            if (!"b".equals(scenario)) {
                scenarioA(dir, n, sync);
            }
            if (!"a".equals(scenario)) {
                scenarioB(dir, n, sync);
            }
        } finally {
            deleteTree(dir);
            if (dataSource != null) {
                dropTables();
                dataSource.close();
            }
        }
    }

    private static String store = "file";
    private static int threads = 1;
    @SuppressWarnings("deprecation")
    private static org.postgresql.ds.PGPoolingDataSource dataSource;
    private static String tablePrefix;

    /**
     * The PostgreSQL server named by OPENAI_BATCH_TEST_JDBC_URL, _USER and _PASSWORD (what .ci/run exports), through
     * a small pool of the driver's (enough for a benchmark) and with batched inserts rewritten as multi-row inserts.
     */
    @SuppressWarnings("deprecation")
    private static org.postgresql.ds.PGPoolingDataSource postgres() {
        String url = System.getenv("OPENAI_BATCH_TEST_JDBC_URL");
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("store=postgres needs OPENAI_BATCH_TEST_JDBC_URL (and _USER, _PASSWORD)");
        }
        org.postgresql.ds.PGPoolingDataSource ds = new org.postgresql.ds.PGPoolingDataSource();
        ds.setDataSourceName("openai-batch-ingest-benchmark");
        ds.setURL(url);
        ds.setUser(System.getenv("OPENAI_BATCH_TEST_JDBC_USER"));
        ds.setPassword(System.getenv("OPENAI_BATCH_TEST_JDBC_PASSWORD"));
        ds.setReWriteBatchedInserts(true);
        ds.setMaxConnections(Math.max(8, threads + 4));
        return ds;
    }

    private static void dropTables() {
        try (java.sql.Connection c = dataSource.getConnection(); java.sql.Statement st = c.createStatement()) {
            for (String t : new String[] { "requests", "segments", "history" }) {
                st.execute("DROP TABLE IF EXISTS " + tablePrefix + t);
            }
        } catch (java.sql.SQLException e) {
            System.out.println("cannot drop the benchmark tables " + tablePrefix + "*: " + e.getMessage());
        }
    }

    private static OpenAIBatchComponent component(Path dir, String sync) {
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setStoreDirectory(dir.resolve("store").toString());
        component.getConfiguration().setSyncPolicy(dev.camelbatch.openaibatch.engine.SyncPolicy.valueOf(sync));
        if (dataSource != null) {
            component.getConfiguration().setDataSource(dataSource);
            component.getConfiguration().setTablePrefix(tablePrefix);
        }
        return component;
    }

    static String prompt(int i) {
        StringBuilder sb = new StringBuilder(420);
        sb.append("Review #").append(i).append(": ");
        while (sb.length() < 400) {
            sb.append("The product arrived on time and works as described, although the packaging was damaged. ");
        }
        sb.setLength(400);
        return sb.toString();
    }

    private static void scenarioA(Path dir, int n, String sync) throws Exception {
        // baseline: plain Jackson, same bodies, JSONL into a buffered file
        Path plain = dir.resolve("plain-a.jsonl");
        warmupBaselineA(plain, Math.min(n, 100_000));
        double baseline;
        try (HeapMeter heap = new HeapMeter()) {
            long t0 = System.nanoTime();
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(plain), 1 << 16)) {
                for (int i = 0; i < n; i++) {
                    writeLine(out, "plain-" + i, prompt(i));
                }
            }
            baseline = n / ((System.nanoTime() - t0) / 1e9);
        }
        Files.deleteIfExists(plain);

        CamelContext context = new DefaultCamelContext();
        context.addComponent("openai-batch", component(dir, sync));
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:warmup").to("openai-batch:warmup-a?model=gpt-4o-mini&batchTimeout=0");
                from("direct:in").to("openai-batch:ingest-a?model=gpt-4o-mini&batchTimeout=0");
            }
        });
        context.start();
        ProducerTemplate template = context.createProducerTemplate();
        for (int i = 0; i < Math.min(n, dataSource != null ? 10_000 : 100_000); i++) {
            template.sendBody("direct:warmup", prompt(i));
        }
        double rate;
        double peak;
        double live;
        try (HeapMeter heap = new HeapMeter()) {
            long t0 = System.nanoTime();
            if (threads <= 1) {
                for (int i = 0; i < n; i++) {
                    template.sendBody("direct:in", prompt(i));
                }
            } else {
                // concurrent producers (a group commit shares their transactions or fsyncs)
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
                List<java.util.concurrent.Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int first = t;
                    done.add(pool.submit(() -> {
                        for (int i = first; i < n; i += threads) {
                            template.sendBody("direct:in", prompt(i));
                        }
                    }));
                }
                for (java.util.concurrent.Future<?> f : done) {
                    f.get();
                }
                pool.shutdown();
            }
            rate = n / ((System.nanoTime() - t0) / 1e9);
            peak = heap.peakMb();
            live = heap.maxLiveMb();
        }
        context.stop();
        report("a: separate exchanges", n, rate, baseline, peak, live, 0.5);
    }

    private static void warmupBaselineA(Path plain, int n) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(plain), 1 << 16)) {
            for (int i = 0; i < n; i++) {
                writeLine(out, "warm-" + i, prompt(i));
            }
        }
    }

    private static void writeLine(OutputStream out, String customId, String prompt) throws IOException {
        ObjectNode line = MAPPER.createObjectNode();
        line.put("custom_id", customId);
        line.put("method", "POST");
        line.put("url", "/v1/chat/completions");
        ObjectNode body = line.putObject("body");
        body.put("model", "gpt-4o-mini");
        body.putArray("messages").addObject().put("role", "user").put("content", prompt);
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            MAPPER.writeTree(g, line);
        }
        out.write('\n');
    }

    private static void scenarioB(Path dir, int n, String sync) throws Exception {
        Path doc = dir.resolve("document.jsonl");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(doc), 1 << 16)) {
            for (int i = 0; i < n; i++) {
                writeLine(out, "doc-" + i, prompt(i));
            }
        }
        System.out.printf("  document: %,d bytes%n", Files.size(doc));
        // baseline: plain Jackson reads, parses and rewrites the same lines
        Path rewritten = dir.resolve("rewritten.jsonl");
        baselineB(doc, rewritten);
        Files.deleteIfExists(rewritten);
        double baseline;
        try (HeapMeter heap = new HeapMeter()) {
            long t0 = System.nanoTime();
            baselineB(doc, rewritten);
            baseline = n / ((System.nanoTime() - t0) / 1e9);
        }
        Files.deleteIfExists(rewritten);

        CamelContext context = new DefaultCamelContext();
        context.addComponent("openai-batch", component(dir, sync));
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:warmup").to("openai-batch:warmup-b?model=gpt-4o-mini&batchTimeout=0");
                from("direct:in").to("openai-batch:ingest-b?model=gpt-4o-mini&batchTimeout=0");
            }
        });
        context.start();
        ProducerTemplate template = context.createProducerTemplate();
        template.sendBody("direct:warmup", doc);
        double rate;
        double peak;
        double live;
        try (HeapMeter heap = new HeapMeter()) {
            long t0 = System.nanoTime();
            template.sendBody("direct:in", doc);
            rate = n / ((System.nanoTime() - t0) / 1e9);
            peak = heap.peakMb();
            live = heap.maxLiveMb();
        }
        context.stop();
        report("b: one JSONL document", n, rate, baseline, peak, live, 0.8);
    }

    private static void baselineB(Path doc, Path rewritten) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(doc, StandardCharsets.UTF_8);
             OutputStream out = new BufferedOutputStream(Files.newOutputStream(rewritten), 1 << 16)) {
            String l;
            while ((l = in.readLine()) != null) {
                JsonNode node = MAPPER.readTree(l);
                try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
                    g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                    MAPPER.writeTree(g, node);
                }
                out.write('\n');
            }
        }
    }

    static void report(String name, int n, double rate, double baseline, double peakMb, double liveMb,
            double target) {
        double ratio = rate / baseline;
        System.out.printf("%-26s n=%,d  component %,.0f req/s  plain Jackson %,.0f req/s  ratio %.2f (target >= %.1f:"
                          + " %s)  peak heap %.0f MB  max live heap %.0f MB%n", name, n, rate, baseline, ratio, target,
                ratio >= target ? "met" : "MISSED", peakMb, liveMb);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
