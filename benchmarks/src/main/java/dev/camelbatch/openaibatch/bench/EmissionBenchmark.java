package dev.camelbatch.openaibatch.bench;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import dev.camelbatch.openaibatch.api.OpenAIFile;
import dev.camelbatch.openaibatch.api.OpenAIJson;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import dev.camelbatch.openaibatch.engine.store.file.FileBatchStore;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * Emission benchmark: an N-line output file of a finished batch emitted by the consumer to a no-op route,
 * against plain Jackson streaming the same file line by line (the limit). Prints lines per second, the ratio and the
 * heap. The time of the component includes downloading the file from the simulator. After two warm-up runs of both,
 * five rounds alternate the two; the medians are compared. Each run of the component also prints its phases: starting
 * the context, up to the first line (the first cycle and the download, with its first pass over the file) and from
 * the first line to the last.
 * <p>
 * Arguments: {@code [lines=1000000] [outputFormat=content] [store=file|postgres] [rounds=5] [warmups=2]}.
 * {@code store=postgres}: the finished segment is in the JDBC store on the PostgreSQL server named by
 * {@code OPENAI_BATCH_TEST_JDBC_URL} ({@code _USER}, {@code _PASSWORD}; HikariCP, tables of its own dropped at the
 * end) and holds its {@code lines} request rows (every tenth with carried headers), as a segment that a producer
 * spooled would: the consumer reads the carried headers from the database, checkpoints every line there and
 * deletes the rows when the segment completes.
 */
public final class EmissionBenchmark {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static int rounds = 5;
    private static int warmups = 2;
    private static String store = "file";
    private static javax.sql.DataSource dataSource;
    private static String tablePrefix;

    private EmissionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        List<String> positional = new java.util.ArrayList<>();
        for (String a : args) {
            if (a.startsWith("store=")) {
                store = a.substring(6);
            } else if (a.startsWith("rounds=")) {
                rounds = Integer.parseInt(a.substring(7));
            } else if (a.startsWith("warmups=")) {
                warmups = Integer.parseInt(a.substring(8));
            } else {
                positional.add(a);
            }
        }
        int n = positional.size() > 0 ? Integer.parseInt(positional.get(0).replace("_", "")) : 1_000_000;
        String format = positional.size() > 1 ? positional.get(1) : "content";
        Path dir = Files.createTempDirectory("openai-batch-emit-");
        if ("postgres".equals(store)) {
            dataSource = postgres();
            tablePrefix = "bench_emit_" + Long.toString(System.currentTimeMillis(), 36) + "_";
        } else if (!"file".equals(store)) {
            throw new IllegalArgumentException("store must be file or postgres, was " + store);
        }
        System.out.printf("emission benchmark: %,d lines, outputFormat=%s, store=%s%s, %s%n", n, format, store,
                dataSource != null ? " (" + System.getenv("OPENAI_BATCH_TEST_JDBC_URL") + ", tables " + tablePrefix
                                     + "*, HikariCP)" : "", HeapMeter.machine());
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-bench").port(0)
                .storageDir(dir.resolve("sim")).maxUploadBytes(4L << 30).recordExecutions(false).build().start()) {
            Path output = dir.resolve("output.jsonl");
            writeOutputFile(output, n);
            System.out.printf("  output file: %,d bytes%n", Files.size(output));

            String fileId;
            try (OpenAIBatchClient client = new OpenAIBatchClient(OpenAIClientConfig.builder().apiKey("sk-bench")
                    .baseUrl(sim.baseUrl()).build())) {
                OpenAIFile f = client.uploadFile(output, "output.jsonl", "batch", null);
                fileId = f.getId();
            }
            Path storeDir = dir.resolve("store");
            for (int w = 0; w < warmups; w++) {
                prepareFinishedSegment(storeDir, "warmup" + w, fileId, n);
            }
            for (int round = 0; round < rounds; round++) {
                prepareFinishedSegment(storeDir, "emit" + round, fileId, n);
            }

            // warm-up of both sides, then rounds that alternate them; the medians are compared
            for (int w = 0; w < warmups; w++) {
                baseline(output);
                run(sim, storeDir, "warmup" + w, n, format);
            }
            double[] baselines = new double[rounds];
            double[] rates = new double[rounds];
            double peak = 0;
            double live = 0;
            for (int round = 0; round < rounds; round++) {
                long t0 = System.nanoTime();
                long lines = baseline(output);
                baselines[round] = lines / ((System.nanoTime() - t0) / 1e9);
                double[] r = run(sim, storeDir, "emit" + round, n, format);
                rates[round] = r[0];
                peak = Math.max(peak, r[1]);
                live = Math.max(live, r[2]);
                System.out.printf("  round %d: component %,.0f lines/s, plain Jackson %,.0f lines/s%n", round + 1,
                        rates[round], baselines[round]);
                System.out.println("    " + lastCpu);
            }
            IngestBenchmark.report("emission: no-op route (median of " + rounds + ")", n, median(rates),
                    median(baselines), peak, live, 0.7);
            if (dataSource != null) {
                System.out.printf("  from PostgreSQL: %,.0f lines/s (target >= 100,000 lines/s: %s), checkpoint every %s"
                                  + " line(s)%n", median(rates), median(rates) >= 100_000 ? "met" : "MISSED",
                        System.getProperty("openai-batch.jdbcCheckpointEvery", "1"));
            }
        } finally {
            IngestBenchmark.deleteTree(dir);
            if (dataSource != null) {
                try (java.sql.Connection c = dataSource.getConnection(); java.sql.Statement st = c.createStatement()) {
                    for (String t : new String[] { "requests", "segments", "history" }) {
                        st.execute("DROP TABLE IF EXISTS " + tablePrefix + t);
                    }
                }
                ((com.zaxxer.hikari.HikariDataSource) dataSource).close();
            }
        }
    }

    private static String lastCpu = "";

    private static javax.sql.DataSource postgres() {
        String url = System.getenv("OPENAI_BATCH_TEST_JDBC_URL");
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("store=postgres needs OPENAI_BATCH_TEST_JDBC_URL (and _USER, _PASSWORD)");
        }
        com.zaxxer.hikari.HikariConfig hc = new com.zaxxer.hikari.HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername(System.getenv("OPENAI_BATCH_TEST_JDBC_USER"));
        hc.setPassword(System.getenv("OPENAI_BATCH_TEST_JDBC_PASSWORD"));
        hc.setMaximumPoolSize(10);
        hc.setPoolName("openai-batch-emission-benchmark");
        return new com.zaxxer.hikari.HikariDataSource(hc);
    }

    private static double[] run(BatchSimulator sim, Path storeDir, String name, int n, String format)
            throws Exception {
        CountDownLatch done = new CountDownLatch(n);
        AtomicLong chars = new AtomicLong();
        AtomicLong first = new AtomicLong();
        CamelContext context = new DefaultCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey("sk-bench");
        component.getConfiguration().setBaseUrl(sim.baseUrl());
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        if (dataSource != null) {
            component.getConfiguration().setDataSource(dataSource);
            component.getConfiguration().setTablePrefix(tablePrefix);
        }
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("openai-batch:" + name + "?pollInterval=10&deleteFiles=false&outputFormat=" + format)
                        .process(e -> {
                            Object body = e.getMessage().getBody();
                            chars.addAndGet(body != null ? body.hashCode() & 1 : 0);
                            if (first.get() == 0) {
                                first.compareAndSet(0, System.nanoTime());
                            }
                            done.countDown();
                        });
            }
        });
        double rate;
        double peak;
        double live;
        try (HeapMeter heap = new HeapMeter()) {
            CpuShares cpu = new CpuShares();
            long t0 = System.nanoTime();
            context.start();
            long started = System.nanoTime();
            if (!done.await(30, TimeUnit.MINUTES)) {
                throw new IllegalStateException("emission did not finish: " + done.getCount() + " lines missing");
            }
            long end = System.nanoTime();
            rate = n / ((end - t0) / 1e9);
            System.out.printf("    phases: start %d ms, to first line %d ms, emitting %d ms (%,.0f lines/s)%n",
                    (started - t0) / 1_000_000, (first.get() - started) / 1_000_000, (end - first.get()) / 1_000_000,
                    n / ((end - first.get()) / 1e9));
            lastCpu = cpu.report() + "\n    " + cpu.threads();
            peak = heap.peakMb();
            live = heap.maxLiveMb();
        }
        context.stop();
        return new double[] { rate, peak, live };
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        return v[v.length / 2];
    }

    /**
     * A store holding one finished segment whose output file is the uploaded one: in the file store without request
     * lines; in PostgreSQL with its n request rows (as the spool would hold them), every tenth carrying headers.
     */
    private static void prepareFinishedSegment(Path storeDir, String name, String fileId, int n) throws Exception {
        dev.camelbatch.openaibatch.engine.store.BatchStore store = dataSource != null
                ? new dev.camelbatch.openaibatch.engine.store.jdbc.JdbcBatchStore(dataSource, name, tablePrefix,
                        SyncPolicy.INTERVAL, OpenAIJson.mapper(), storeDir.resolve("work"))
                : new FileBatchStore(storeDir, name, SyncPolicy.NEVER, 1000, OpenAIJson.mapper());
        if (store instanceof dev.camelbatch.openaibatch.engine.store.jdbc.JdbcBatchStore j) {
            j.start();
        } else {
            ((FileBatchStore) store).start();
        }
        try {
            SegmentInfo s = store.createSealedSegment("/v1/chat/completions", "gpt-4o-mini", 1, null, List.of());
            SegmentLifecycle.advance(s, SegmentStatus.FINISHED);
            s.setBatchId("batch_bench_" + name);
            s.setBatchStatus("completed");
            s.setOutputFileId(fileId);
            if (dataSource != null) {
                s.setRequestCount(n);
                insertRequestRows(name, s.getId(), n);
            }
            store.update(s);
        } finally {
            store.close();
        }
    }

    /** The request rows of a segment, made by the server (r-1 ... r-n as in the output file). */
    private static void insertRequestRows(String name, String segmentId, int n) throws Exception {
        try (java.sql.Connection c = dataSource.getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO " + tablePrefix + "requests"
                                                                + " (segment_id, seq, name, custom_id, live_id,"
                                                                + " tokens, line, carried) SELECT ?, g + 1, ?,"
                                                                + " 'r-' || g, 'r-' || g, 20, convert_to('{\"custom_id\":\"r-'"
                                                                + " || g || '\",\"method\":\"POST\",\"url\":"
                                                                + "\"/v1/chat/completions\",\"body\":{\"model\":"
                                                                + "\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
                                                                + "\"content\":\"1 + ' || g || ' = \"}]}}', 'UTF8'),"
                                                                + " CASE WHEN g % 10 = 0 THEN convert_to("
                                                                + "'{\"reviewId\":\"' || g || '\"}', 'UTF8') END"
                                                                + " FROM generate_series(0, ? - 1) g")) {
            ps.setString(1, segmentId);
            ps.setString(2, name);
            ps.setInt(3, n);
            ps.executeUpdate();
        }
    }

    private static long baseline(Path file) throws Exception {
        long lines = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String l;
            while ((l = in.readLine()) != null) {
                JsonNode node = MAPPER.readTree(l);
                if (node.has("custom_id")) {
                    lines++;
                }
            }
        }
        return lines;
    }

    private static void writeOutputFile(Path file, int n) throws Exception {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            for (int i = 0; i < n; i++) {
                String content = "1 + " + i + " = " + (i + 1);
                String line = "{\"id\":\"batch_req_" + i + "\",\"custom_id\":\"r-" + i + "\",\"response\":{\"status_code\":200,"
                              + "\"request_id\":\"req_" + i + "\",\"body\":{\"id\":\"chatcmpl-" + i + "\",\"object\":"
                              + "\"chat.completion\",\"created\":1730000000,\"model\":\"gpt-4o-mini-2024-07-18\","
                              + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + content
                              + "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":"
                              + "{\"prompt_tokens\":24,\"completion_tokens\":9,\"total_tokens\":33,"
                              + "\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":"
                              + "{\"reasoning_tokens\":0}},\"system_fingerprint\":\"fp_sim\"}},\"error\":null}\n";
                out.write(line.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

}
