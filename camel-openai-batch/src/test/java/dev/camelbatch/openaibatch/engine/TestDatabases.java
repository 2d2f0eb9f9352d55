package dev.camelbatch.openaibatch.engine;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGConnectionPoolDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Databases for the JDBC store tests: H2 in this JVM (always), and the PostgreSQL server named by the environment
 * variables {@value #URL}, {@value #USER} and {@value #PASSWORD} ({@code .ci/run} starts one and sets them). Without
 * them the PostgreSQL tests are skipped with a warning, except under {@code CI=true}, where they fail.
 * <p>
 * Both are pooled (H2's {@link JdbcConnectionPool}, over PostgreSQL's pooled data source too), as the store expects.
 */
public final class TestDatabases {

    public static final String URL = "OPENAI_BATCH_TEST_JDBC_URL";
    public static final String USER = "OPENAI_BATCH_TEST_JDBC_USER";
    public static final String PASSWORD = "OPENAI_BATCH_TEST_JDBC_PASSWORD";
    private static final Logger LOG = LoggerFactory.getLogger(TestDatabases.class);
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private TestDatabases() {
    }

    /** A private in-memory H2 database (plain, or in PostgreSQL compatibility mode). */
    public static JdbcConnectionPool h2(boolean postgresMode) {
        String url = "jdbc:h2:mem:openai-batch-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet()
                     + ";DB_CLOSE_DELAY=-1" + (postgresMode
                             ? ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH" : "");
        return pool(url);
    }

    /** A pooled H2 data source for a URL (file or server databases for child JVMs). */
    public static JdbcConnectionPool pool(String url) {
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "sa", "");
        pool.setMaxConnections(16);
        return pool;
    }

    /** Whether the PostgreSQL server of the tests is configured. */
    public static boolean postgresConfigured() {
        String url = System.getenv(URL);
        return url != null && !url.isBlank();
    }

    /** Skips (outside CI) or fails (CI=true) the calling test when PostgreSQL is not configured. */
    public static void requirePostgres() {
        if (postgresConfigured()) {
            return;
        }
        String msg = "PostgreSQL tests need a server: " + URL + " (with " + USER + " and " + PASSWORD
                     + ") is not set; .ci/run starts PostgreSQL and sets them";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("CI=true and " + msg);
        }
        LOG.warn("SKIPPING the PostgreSQL tests: {}", msg);
        System.err.println("WARNING: SKIPPING the PostgreSQL tests: " + msg);
        Assumptions.abort("SKIPPED (no PostgreSQL): " + msg);
    }

    /** A pooled data source for the PostgreSQL server of the tests (see {@link #requirePostgres()}). */
    public static JdbcConnectionPool postgres() {
        requirePostgres();
        PGConnectionPoolDataSource pg = new PGConnectionPoolDataSource();
        pg.setURL(System.getenv(URL));
        pg.setUser(System.getenv(USER));
        pg.setPassword(System.getenv(PASSWORD));
        // the JDBC batches of the store become multi-row inserts (recommended in docs/deployment-several-nodes.md)
        pg.setReWriteBatchedInserts(true);
        JdbcConnectionPool pool = JdbcConnectionPool.create(pg);
        pool.setMaxConnections(16);
        return pool;
    }

    /** A pooled data source for a JDBC URL: PostgreSQL or H2 (for child JVMs that get the URL as an argument). */
    public static JdbcConnectionPool pooled(String url, String user, String password) {
        if (url.startsWith("jdbc:postgresql:")) {
            PGConnectionPoolDataSource pg = new PGConnectionPoolDataSource();
            pg.setURL(url);
            pg.setUser(user);
            pg.setPassword(password);
            pg.setReWriteBatchedInserts(true);
            JdbcConnectionPool pool = JdbcConnectionPool.create(pg);
            pool.setMaxConnections(16);
            return pool;
        }
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, user, password);
        pool.setMaxConnections(16);
        return pool;
    }

    /** A table prefix of its own for one test class, so that runs and classes never see each other's rows. */
    public static String uniquePrefix(String base) {
        return base + "_" + Long.toString(System.nanoTime() & 0xffffffL, 36) + COUNTER.incrementAndGet() + "_";
    }

    /** Drops the tables of a prefix (after a test class). */
    public static void dropTables(DataSource ds, String prefix) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (String t : new String[] { "requests", "segments", "history" }) {
                s.execute("DROP TABLE IF EXISTS " + prefix + t);
            }
        } catch (SQLException e) {
            LOG.warn("Cannot drop the test tables {}*: {}", prefix, e.getMessage());
        }
    }
}
