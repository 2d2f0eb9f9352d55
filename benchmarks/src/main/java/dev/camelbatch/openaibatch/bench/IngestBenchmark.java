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
import dev.camelbatch.openaibatch.engine.store.jdbc.JdbcBatchStore;
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
 * Arguments: {@code [requests=1000000] [scenario=a|b|both] [syncPolicy=INTERVAL] [store=file|postgres] [threads=1]
 * [pool=hikari|driver|none] [lanes=2] [nodes=1]}:
 * <ul>
 * <li>{@code store=postgres} spools into the JDBC store on the PostgreSQL server named by
 * {@code OPENAI_BATCH_TEST_JDBC_URL} ({@code _USER}, {@code _PASSWORD}), in tables of its own that are dropped at
 * the end, and prints what the database did (rows inserted, writes of the open segments' counts, rows per write);</li>
 * <li>{@code threads} sends the requests of (a) from that many threads;</li>
 * <li>{@code pool}: the {@code DataSource} bound: HikariCP (10 connections, the default), the driver's own small
 * pool ({@code PGPoolingDataSource}), or {@code none}: the driver's {@code PGSimpleDataSource}, which opens a
 * connection on every call;</li>
 * <li>{@code lanes}: the JDBC store's append lanes (group commits writing at the same time);</li>
 * <li>{@code nodes=N} (store=postgres, scenario a): N JVMs (this one and N-1 started by it) spool the requests into
 * the same tables at the same moment, each from {@code threads} threads; prints each node's rate and the
 * aggregate.</li>
 * </ul>
 * <p>
 * Long because each scenario sits beside the baseline it is compared with, and the PostgreSQL set-up (data sources,
 * second nodes, table counts) is part of what it measures.
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
            } else if (a.startsWith("pool=")) {
                pool = a.substring(5);
            } else if (a.startsWith("lanes=")) {
                System.setProperty("openai-batch.jdbcAppendLanes", a.substring(6));
            } else if (a.startsWith("nodes=")) {
                nodes = Integer.parseInt(a.substring(6));
            } else if (a.startsWith("prefix=")) {
                tablePrefix = a.substring(7);
            } else if (a.startsWith("startAt=")) {
                startAt = Long.parseLong(a.substring(8));
                startedByAnother = true;
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
            if (tablePrefix == null) {
                tablePrefix = "bench_" + Long.toString(System.currentTimeMillis(), 36) + "_";
            }
        } else if (!"file".equals(store)) {
            throw new IllegalArgumentException("store must be file or postgres, was " + store);
        }
        if (startedByAnother) {
            // a node started by another: scenario (a) at the agreed moment, into the other's tables
            try {
                scenarioA(dir, n, sync);
            } finally {
                deleteTree(dir);
                closeDataSource();
            }
            return;
        }
        System.out.printf("ingest benchmark: %,d requests, syncPolicy=%s, store=%s%s, threads=%d, %s, dir %s%n", n,
                sync, store, dataSource != null ? " (" + System.getenv("OPENAI_BATCH_TEST_JDBC_URL") + ", tables "
                        + tablePrefix + "*, pool=" + pool + ", lanes=" + JdbcBatchStore.defaultAppendLanes()
                        + ", nodes=" + nodes + ")" : "",
                threads, HeapMeter.machine(), dir);
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
                closeDataSource();
            }
        }
    }

    private static String store = "file";
    private static String cpuLine;
    private static int threads = 1;
    private static String pool = "hikari";
    private static int nodes = 1;
    /** Set in a node started by another: when (epoch milliseconds) its timed run begins. */
    private static long startAt;
    /** Whether this JVM is a node started by another (which owns the tables). */
    private static boolean startedByAnother;
    private static javax.sql.DataSource dataSource;
    private static String tablePrefix;

    /**
     * The PostgreSQL server named by OPENAI_BATCH_TEST_JDBC_URL, _USER and _PASSWORD (what .ci/run exports), through
     * the pool chosen with {@code pool=}.
     */
    @SuppressWarnings("deprecation")
    private static javax.sql.DataSource postgres() {
        String url = System.getenv("OPENAI_BATCH_TEST_JDBC_URL");
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("store=postgres needs OPENAI_BATCH_TEST_JDBC_URL (and _USER, _PASSWORD)");
        }
        String user = System.getenv("OPENAI_BATCH_TEST_JDBC_USER");
        String password = System.getenv("OPENAI_BATCH_TEST_JDBC_PASSWORD");
        switch (pool) {
            case "hikari" -> {
                com.zaxxer.hikari.HikariConfig hc = new com.zaxxer.hikari.HikariConfig();
                hc.setJdbcUrl(url);
                hc.setUsername(user);
                hc.setPassword(password);
                hc.setMaximumPoolSize(10);
                hc.setPoolName("openai-batch-ingest-benchmark");
                return new com.zaxxer.hikari.HikariDataSource(hc);
            }
            case "driver" -> {
                org.postgresql.ds.PGPoolingDataSource ds = new org.postgresql.ds.PGPoolingDataSource();
                ds.setDataSourceName("openai-batch-ingest-benchmark-" + System.nanoTime());
                ds.setURL(url);
                ds.setUser(user);
                ds.setPassword(password);
                ds.setMaxConnections(Math.max(8, threads + 4));
                return ds;
            }
            case "none" -> {
                org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
                ds.setURL(url);
                ds.setUser(user);
                ds.setPassword(password);
                return ds;
            }
            default -> throw new IllegalArgumentException("pool must be hikari, driver or none, was " + pool);
        }
    }

    @SuppressWarnings("deprecation")
    private static void closeDataSource() {
        if (dataSource instanceof com.zaxxer.hikari.HikariDataSource h) {
            h.close();
        } else if (dataSource instanceof org.postgresql.ds.PGPoolingDataSource p) {
            p.close();
        }
    }

    /** Rows inserted into the requests table and row updates of the segments table so far (PostgreSQL's counts). */
    private static long[] tableCounts() throws InterruptedException {
        if (dataSource == null) {
            return null;
        }
        // each server process publishes its counts when it has been idle for a moment (at most every second)
        Thread.sleep(2_000);
        try (java.sql.Connection c = dataSource.getConnection(); java.sql.Statement st = c.createStatement()) {
            st.execute("SELECT pg_stat_force_next_flush()");
            long[] r = new long[2];
            String schemaless = tablePrefix.substring(tablePrefix.indexOf('.') + 1);
            try (java.sql.ResultSet rs = st.executeQuery("SELECT relname, n_tup_ins, n_tup_upd FROM"
                                                         + " pg_stat_user_tables WHERE relname IN ('" + schemaless
                                                         + "requests', '" + schemaless + "segments')")) {
                while (rs.next()) {
                    if (rs.getString(1).endsWith("requests")) {
                        r[0] = rs.getLong(2);
                    } else {
                        r[1] = rs.getLong(3);
                    }
                }
            }
            return r;
        } catch (java.sql.SQLException e) {
            return null;
        }
    }

    /** What the database did between two {@link #tableCounts()}. */
    private static void reportTables(long[] before, long[] after) {
        if (before == null || after == null) {
            return;
        }
        long rows = after[0] - before[0];
        long writes = after[1] - before[1];
        System.out.printf("  database: %,d rows inserted, %,d updates of segment rows (one per write that stays in"
                          + " an open segment): %.1f rows per write%n", rows, writes,
                writes > 0 ? (double) rows / writes : Double.NaN);
    }

    private static void dropTables() {
        try (java.sql.Connection c = dataSource.getConnection(); java.sql.Statement st = c.createStatement()) {
            if (startedByAnother) {
                return;
            }
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
        component.getConfiguration().setSyncPolicy(dev.camelbatch.openaibatch.engine.store.SyncPolicy.valueOf(sync));
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
        boolean child = startedByAnother;
        List<Process> others = new ArrayList<>();
        if (nodes > 1 && !child) {
            // the other nodes start now, warm up, and all begin the timed run at the same moment
            startAt = System.currentTimeMillis() + 30_000;
            for (int i = 1; i < nodes; i++) {
                others.add(startNode(n, sync));
            }
        }
        double baseline = startAt > 0 ? Double.NaN : baselineA(dir, n);

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
        // warm-up (the JIT compiles the path) with as many threads as the timed run
        send(template, "direct:warmup", Math.min(n, 100_000), null);
        if (startAt > 0) {
            long wait = startAt - System.currentTimeMillis();
            if (wait < 0) {
                System.out.printf("  node %d: warm-up ended %d ms after the start%n", ProcessHandle.current().pid(),
                        -wait);
            }
            Thread.sleep(Math.max(0, wait));
        }
        long[] before = child ? null : tableCounts();
        double rate;
        double peak;
        double live;
        long wallStart;
        long wallEnd;
        CpuShares cpu;
        try (HeapMeter heap = new HeapMeter()) {
            cpu = new CpuShares();
            wallStart = System.currentTimeMillis();
            long t0 = System.nanoTime();
            send(template, "direct:in", n, () -> cpuLine = cpu.threads());
            rate = n / ((System.nanoTime() - t0) / 1e9);
            wallEnd = System.currentTimeMillis();
            cpuLine = cpu.report() + "\n  " + cpuLine;
            peak = heap.peakMb();
            live = heap.maxLiveMb();
        }
        context.stop();
        if (child) {
            System.out.printf("node-result %d %d %d %.0f %.0f %.0f%n", n, wallStart, wallEnd, rate, peak, live);
            return;
        }
        if (others.isEmpty()) {
            report("a: separate exchanges", n, rate, baseline, peak, live, 0.5);
            postgresTarget(rate, "ALWAYS".equals(sync) ? 20_000 : 50_000);
            System.out.println("  " + cpuLine);
        } else {
            long first = wallStart;
            long last = wallEnd;
            long total = n;
            System.out.printf("  node 1 (this JVM): %,d requests from %d to %d ms: %,.0f req/s, peak heap %.0f MB,"
                              + " max live %.0f MB%n", n, 0, wallEnd - startAt, rate, peak, live);
            int k = 1;
            for (Process p : others) {
                String result = null;
                try (BufferedReader out = new BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = out.readLine()) != null) {
                        if (l.startsWith("node-result ")) {
                            result = l;
                        } else if (l.contains("Exception") || l.contains("ERROR") || l.startsWith("  node")) {
                            System.out.println("  node " + (k + 1) + ": " + l);
                        }
                    }
                }
                p.waitFor();
                k++;
                if (result == null) {
                    throw new IllegalStateException("node " + k + " printed no result (exit " + p.exitValue() + ")");
                }
                String[] f = result.split(" ");
                long s0 = Long.parseLong(f[2]);
                long s1 = Long.parseLong(f[3]);
                first = Math.min(first, s0);
                last = Math.max(last, s1);
                total += Long.parseLong(f[1]);
                System.out.printf("  node %d: %,d requests from %d to %d ms: %s req/s, peak heap %s MB, max live %s"
                                  + " MB%n", k, Long.parseLong(f[1]), s0 - startAt, s1 - startAt, f[4], f[5], f[6]);
            }
            System.out.printf("a: %d nodes, %d threads each   aggregate %,d requests in %,d ms: %,.0f req/s%n",
                    nodes, threads, total, last - first, total / ((last - first) / 1e3));
            System.out.println("  during node 1's run: " + cpuLine);
        }
        reportTables(before, tableCounts());
    }

    /**
     * Sends n requests to the endpoint from {@link #threads} threads; {@code beforeShutdown} runs when all are sent,
     * before the threads end.
     */
    private static void send(ProducerTemplate template, String uri, int n, Runnable beforeShutdown) throws Exception {
        if (threads <= 1) {
            for (int i = 0; i < n; i++) {
                template.sendBody(uri, prompt(i));
            }
            if (beforeShutdown != null) {
                beforeShutdown.run();
            }
            return;
        }
        // concurrent producers (a group commit shares their transactions or fsyncs)
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int first = t;
            done.add(pool.submit(() -> {
                for (int i = first; i < n; i += threads) {
                    template.sendBody(uri, prompt(i));
                }
            }));
        }
        for (java.util.concurrent.Future<?> f : done) {
            f.get();
        }
        if (beforeShutdown != null) {
            beforeShutdown.run();
        }
        pool.shutdown();
    }

    /** Another node: this benchmark in a JVM of its own, into the same tables, starting at {@link #startAt}. */
    private static Process startNode(int n, String sync) throws IOException {
        String javaCommand = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(java.lang.management.ManagementFactory.getRuntimeMXBean()
                .getInputArguments().stream().filter(a -> a.startsWith("-X") && !a.contains("FlightRecord")).toList());
        cmd.add(0, javaCommand);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), IngestBenchmark.class.getName(),
                Integer.toString(n), "a", sync, "store=" + store, "threads=" + threads, "pool=" + pool,
                "lanes=" + JdbcBatchStore.defaultAppendLanes(), "prefix=" + tablePrefix,
                "startAt=" + startAt));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Plain Jackson serialising the same bodies as JSONL lines into a buffered file: requests per second. */
    private static double baselineA(Path dir, int n) throws IOException {
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
        return baseline;
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
        long[] before = tableCounts();
        double rate;
        double peak;
        double live;
        String cpuLine;
        try (HeapMeter heap = new HeapMeter()) {
            CpuShares cpu = new CpuShares();
            long t0 = System.nanoTime();
            template.sendBody("direct:in", doc);
            cpuLine = cpu.report();
            rate = n / ((System.nanoTime() - t0) / 1e9);
            peak = heap.peakMb();
            live = heap.maxLiveMb();
        }
        context.stop();
        report("b: one JSONL document", n, rate, baseline, peak, live, 0.8);
        postgresTarget(rate, 100_000);
        System.out.println("  " + cpuLine);
        reportTables(before, tableCounts());
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

    /** The absolute target of the PostgreSQL store (its ratio to plain Jackson is not what it is measured by). */
    private static void postgresTarget(double rate, double target) {
        if (dataSource != null) {
            System.out.printf("  PostgreSQL store: %,.0f req/s (target >= %,.0f: %s)%n", rate, target,
                    rate >= target ? "met" : "MISSED");
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
