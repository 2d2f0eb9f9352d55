package dev.camelbatch.examples.database;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import javax.sql.DataSource;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.main.Main;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The database example as a Camel Main application: tickets without a category are classified in batches and the
 * answer is written back to the same row. Without {@code OPENAI_API_KEY} it runs on the in-process simulator
 * against an in-memory H2 database with 30 sample tickets and exits once every ticket has a category; with the key
 * it uses the real API and keeps scanning. {@code -Ddb.url=jdbc:postgresql://...} uses PostgreSQL instead.
 */
public final class DatabaseApplication {

    private static final String SIMULATOR_KEY = "sk-sim";
    static final Duration DEMO_TIMEOUT = Duration.ofMinutes(2);

    private final DatabaseSettings settings;
    private final PrintStream out;
    private volatile Main main;
    private volatile DataSource dataSource;

    public DatabaseApplication(DatabaseSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        new DatabaseApplication(DatabaseSettings.fromEnvironment(System.getenv(), System.getProperties()), System.out)
                .run();
    }

    /** The database, once the application has started. */
    public DataSource dataSource() {
        return dataSource;
    }

    public void stop() {
        Main m = main;
        if (m != null) {
            m.completed();
        }
    }

    public static DataSource dataSource(DatabaseSettings s) {
        DriverManagerDataSource ds = new DriverManagerDataSource(s.jdbcUrl());
        ds.setUsername(s.user());
        ds.setPassword(s.password());
        return ds;
    }

    /** Runs until stopped (or, in the demo, until no ticket is left without a category); true if none is left. */
    public boolean run() throws Exception {
        BatchSimulator sim = null;
        Path tempStore = null;
        try {
            DataSource ds = dataSource(settings);
            Tickets.createTable(ds);
            int seeded = settings.seed() ? Tickets.seedIfEmpty(ds) : 0;
            this.dataSource = ds;
            out.println("Database " + settings.jdbcUrl() + ": table tickets(id, text, category)"
                        + (seeded > 0 ? ", " + seeded + " sample tickets inserted" : "") + "; "
                        + Tickets.countWithoutCategory(ds) + " without a category");

            OpenAIBatchComponent component = new OpenAIBatchComponent();
            OpenAIBatchConfiguration conf = component.getConfiguration();
            if (settings.demo()) {
                sim = BatchSimulator.builder().apiKey(SIMULATOR_KEY).port(0).stepDelay(settings.simulatorStepDelay())
                        .build().start();
                conf.setApiKey(SIMULATOR_KEY);
                conf.setBaseUrl(sim.baseUrl());
                tempStore = Files.createTempDirectory("database-store-");
                conf.setStoreDirectory(tempStore.toString());
                out.println("OPENAI_API_KEY is not set: running on the in-process simulator at " + sim.baseUrl());
            } else {
                conf.setApiKey(settings.apiKey());
                conf.setBaseUrl(settings.baseUrl());
                conf.setStoreDirectory(settings.dir().resolve("store").toString());
                out.println("Using the OpenAI Batch API at "
                            + (settings.baseUrl() != null ? settings.baseUrl() : "https://api.openai.com/v1")
                            + "; scanning every " + settings.scanInterval().toSeconds() + " s; Ctrl-C stops");
            }
            conf.setBatchTimeout(settings.batchTimeout().toMillis());
            conf.setPollInterval(settings.pollInterval().toMillis());
            conf.setMaxPollInterval(Math.max(settings.pollInterval().toMillis(), 1000));

            Main m = new Main();
            m.bind("openai-batch", component);
            m.bind("ticketsDataSource", ds);
            DatabaseRoutes routes = new DatabaseRoutes(settings);
            m.configure().addRoutesBuilder(routes);
            AtomicBoolean done = new AtomicBoolean();
            if (settings.exitWhenDone()) {
                routes.afterUpdate(() -> {
                    try {
                        if (Tickets.countWithoutCategory(ds) == 0 && done.compareAndSet(false, true)) {
                            DatabaseRoutes.LOG.info("Every ticket has a category; stopping");
                            m.completed();
                        }
                    } catch (SQLException e) {
                        DatabaseRoutes.LOG.warn("Counting the tickets left failed: {}", e.getMessage());
                    }
                });
                Thread watchdog = new Thread(() -> {
                    try {
                        Thread.sleep(DEMO_TIMEOUT.toMillis());
                        if (done.compareAndSet(false, true)) {
                            DatabaseRoutes.LOG.error("Not done after {}; stopping", DEMO_TIMEOUT);
                            m.completed();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "database-watchdog");
                watchdog.setDaemon(true);
                watchdog.start();
            }
            this.main = m;
            try {
                m.run();
            } finally {
                this.main = null;
            }
            long left = Tickets.countWithoutCategory(ds);
            printSummary(ds, routes.updated(), left);
            return left == 0;
        } finally {
            if (sim != null) {
                sim.close();
            }
            if (tempStore != null) {
                deleteRecursively(tempStore);
            }
        }
    }

    private void printSummary(DataSource ds, long updated, long left) throws SQLException {
        List<Tickets.Ticket> all = Tickets.all(ds);
        Map<String, Integer> byCategory = new TreeMap<>();
        for (Tickets.Ticket t : all) {
            String c = t.category() == null ? "(none yet)"
                    : Category.KNOWN.contains(t.category()) || t.category().startsWith("error: ") ? t.category()
                    : "(other answer)";
            byCategory.merge(c, 1, Integer::sum);
        }
        out.printf("%nDone: %d tickets updated by their primary key, %d left without a category%n", updated, left);
        out.printf("%-4s  %-40s  %s%n", "id", "category", "text");
        for (Tickets.Ticket t : all.subList(0, Math.min(8, all.size()))) {
            out.printf("%-4d  %-40s  %s%n", t.id(), cut(t.category(), 40), cut(t.text(), 60));
        }
        if (all.size() > 8) {
            out.printf("... %d more%n", all.size() - 8);
        }
        out.println("By category: " + byCategory
                    + (settings.demo() ? " (the simulator answers 'Echo: <ticket>' instead of a category)" : ""));
    }

    private static String cut(String s, int n) {
        if (s == null) {
            return "NULL";
        }
        return s.length() > n ? s.substring(0, n - 3) + "..." : s;
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
