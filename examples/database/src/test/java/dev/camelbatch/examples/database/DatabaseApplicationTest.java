package dev.camelbatch.examples.database;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The example on the in-process simulator and an in-memory H2 database. */
@Timeout(300)
class DatabaseApplicationTest {

    @TempDir
    Path dir;

    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    @AfterEach
    void tearDown() {
        executor.shutdownNow();
    }

    @Test
    void demoClassifiesEveryTicketAndWritesItBackByItsKey() throws Exception {
        DatabaseSettings s = DatabaseSettings.demo(dir)
                .forTest("jdbc:h2:mem:demo-test;DB_CLOSE_DELAY=-1", Duration.ofMillis(50), true);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        DatabaseApplication app = new DatabaseApplication(s, new PrintStream(console, true, StandardCharsets.UTF_8));
        Future<Boolean> run = executor.submit(app::run);
        assertThat(run.get(30, TimeUnit.SECONDS)).isTrue();

        List<Tickets.Ticket> rows = Tickets.all(DatabaseApplication.dataSource(s));
        assertThat(rows).hasSize(30);
        Map<Long, String> samples = Tickets.samples().stream()
                .collect(Collectors.toMap(Tickets.Ticket::id, Tickets.Ticket::text));
        for (Tickets.Ticket t : rows) {
            // the simulator echoes the prompt: each row holds the answer to its own text
            assertThat(t.text()).isEqualTo(samples.get(t.id()));
            assertThat(t.category()).as("ticket %d", t.id()).isEqualTo("Echo: " + t.text());
        }
        assertThat(console.toString(StandardCharsets.UTF_8))
                .contains("Done: 30 tickets updated by their primary key, 0 left without a category");
    }

    @Test
    void onlyRowsWithoutCategoryAreClassifiedAlsoThoseAddedWhileRunningAndFailuresAreMarked() throws Exception {
        DatabaseSettings s = DatabaseSettings.demo(dir)
                .forTest("jdbc:h2:mem:running-test;DB_CLOSE_DELAY=-1", Duration.ofMillis(50), false);
        DataSource ds = DatabaseApplication.dataSource(s);
        Tickets.createTable(ds);
        insert(ds, 1, "Already classified", "billing");
        insert(ds, 2, "Where is my parcel?", null);
        insert(ds, 3, "FAIL_400 this one fails", null);
        DatabaseApplication app = new DatabaseApplication(s, new PrintStream(new ByteArrayOutputStream()));
        Future<Boolean> run = executor.submit(app::run);

        await().atMost(Duration.ofSeconds(15)).until(() -> Tickets.countWithoutCategory(ds) == 0);
        insert(ds, 4, "Added while running", null);
        insert(ds, 5, "Also added while running", null);
        await().atMost(Duration.ofSeconds(15)).until(() -> Tickets.countWithoutCategory(ds) == 0);
        app.stop();
        assertThat(run.get(20, TimeUnit.SECONDS)).isTrue();

        Map<Long, String> categories = Tickets.all(ds).stream()
                .collect(Collectors.toMap(Tickets.Ticket::id, Tickets.Ticket::category));
        assertThat(categories).containsExactlyInAnyOrderEntriesOf(Map.of(
                1L, "billing",
                2L, "Echo: Where is my parcel?",
                3L, "error: invalid_request_error",
                4L, "Echo: Added while running",
                5L, "Echo: Also added while running"));
    }

    @Test
    void categoriesAndSettings() {
        assertThat(Category.of(" Billing.")).isEqualTo("billing");
        assertThat(Category.of("TECHNICAL")).isEqualTo("technical");
        assertThat(Category.of("Echo: x")).isEqualTo("Echo: x");
        assertThat(Category.of("x".repeat(300))).hasSize(255);

        Properties p = new Properties();
        p.setProperty("db.dir", dir.toString());
        DatabaseSettings demo = DatabaseSettings.fromEnvironment(Map.of(), p);
        assertThat(demo.demo()).isTrue();
        assertThat(demo.jdbcUrl()).startsWith("jdbc:h2:mem:");
        assertThat(demo.seed()).isTrue();
        p.setProperty("db.url", "jdbc:postgresql://127.0.0.1:5432/support");
        p.setProperty("db.user", "support");
        p.setProperty("db.password", "secret");
        DatabaseSettings pg = DatabaseSettings.fromEnvironment(Map.of("OPENAI_API_KEY", "sk-x"), p);
        assertThat(pg.demo()).isFalse();
        assertThat(pg.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/support");
        assertThat(pg.user()).isEqualTo("support");
        assertThat(pg.password()).isEqualTo("secret");
        assertThat(pg.seed()).isFalse();
        assertThat(pg.exitWhenDone()).isFalse();
    }

    private static void insert(DataSource ds, long id, String text, String category) throws Exception {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO tickets (id, text, category) VALUES (?, ?, ?)")) {
            ps.setLong(1, id);
            ps.setString(2, text);
            ps.setString(3, category);
            ps.executeUpdate();
        }
    }
}
