package dev.camelbatch.openaibatch.engine.store.jdbc;

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
 * variables {@value #URL}, {@value #USER} and {@value #PASSWORD} ({@code .ci/run} starts one and sets them).
 * <ul>
 * <li>Not set: the PostgreSQL tests are skipped with a warning (the build prints one on the console too), except
 * under {@code CI=true}, where they fail.</li>
 * <li>Set, but the server cannot be reached: the tests fail, in CI and outside (a configured server is meant to be
 * used; nothing falls back to H2 silently).</li>
 * <li>{@value #SKIP}{@code =true} (what {@code .ci/run} honours to run without PostgreSQL): skipped with a warning,
 * also under {@code CI=true}; an explicit choice, never the default.</li>
 * </ul>
 * <p>
 * Both are pooled (H2's {@link JdbcConnectionPool}, over PostgreSQL's pooled data source too), as the store expects.
 */
public final class TestDatabases {

    public static final String URL = "OPENAI_BATCH_TEST_JDBC_URL";
    public static final String USER = "OPENAI_BATCH_TEST_JDBC_USER";
    public static final String PASSWORD = "OPENAI_BATCH_TEST_JDBC_PASSWORD";
    /** The explicit opt-out: {@code true} skips the PostgreSQL tests even under {@code CI=true}. */
    public static final String SKIP = "OPENAI_BATCH_SKIP_POSTGRES";
    /** Whether the server answered, once checked (null: not checked yet). */
    private static volatile Boolean reachable;
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

    /**
     * Whether the PostgreSQL server of the tests is configured (and not opted out of with {@value #SKIP}=true).
     * A configured server that cannot be reached fails the calling test: it never counts as "not configured".
     */
    public static boolean postgresConfigured() {
        if (optedOut()) {
            return false;
        }
        String url = System.getenv(URL);
        if (url == null || url.isBlank()) {
            return false;
        }
        requireReachable(url);
        return true;
    }

    /** Skips (outside CI, or with {@value #SKIP}=true) or fails (CI=true) the calling test without PostgreSQL. */
    public static void requirePostgres() {
        if (postgresConfigured()) {
            return;
        }
        String msg = optedOut()
                ? SKIP + "=true"
                : "PostgreSQL tests need a server: " + URL + " (with " + USER + " and " + PASSWORD
                  + ") is not set; .ci/run starts PostgreSQL and sets them";
        if (!optedOut() && underCi()) {
            fail("CI=true and " + msg);
        }
        LOG.warn("SKIPPING the PostgreSQL tests: {}", msg);
        System.err.println("WARNING: SKIPPING the PostgreSQL tests: " + msg);
        Assumptions.abort("SKIPPED (no PostgreSQL): " + msg);
    }

    /** Whether the tests run under {@code CI=true} (what {@code .ci/run} sets). */
    public static boolean underCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Whether {@value #SKIP}=true asks to run without PostgreSQL. */
    public static boolean optedOut() {
        return "true".equalsIgnoreCase(System.getenv(SKIP));
    }

    /** Connects once (the result is kept for the JVM); fails the test when the configured server does not answer. */
    private static void requireReachable(String url) {
        Boolean known = reachable;
        if (known == null) {
            synchronized (TestDatabases.class) {
                known = reachable;
                if (known == null) {
                    known = connects(url);
                    reachable = known;
                }
            }
        }
        if (!known) {
            fail("the PostgreSQL server of the tests (" + URL + "=" + url + ") cannot be reached"
                 + (underCi() ? " under CI=true" : "") + "; start it, or unset " + URL + " (or set " + SKIP
                 + "=true) to skip the PostgreSQL tests");
        }
    }

    private static boolean connects(String url) {
        PGConnectionPoolDataSource pg = new PGConnectionPoolDataSource();
        pg.setURL(url);
        pg.setUser(System.getenv(USER));
        pg.setPassword(System.getenv(PASSWORD));
        pg.setConnectTimeout(10);
        pg.setLoginTimeout(10);
        try (Connection c = pg.getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            return true;
        } catch (SQLException e) {
            LOG.error("The PostgreSQL server of the tests ({}) cannot be reached: {}", url, e.toString());
            return false;
        }
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
