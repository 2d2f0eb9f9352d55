package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.store.BatchStoreContract;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.MAPPER;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.ROOMY;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.rec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JDBC store with a data source that is not pooled (every {@code getConnection} opens a connection): the store
 * keeps the few connections it works with instead of opening one per operation, and replaces those that break
 * (validated after a pause; here before every use) without failing the operation.
 */
@Timeout(120)
class JdbcConnectionsTest {

    private static final String CHAT = "/v1/chat/completions";

    @TempDir
    Path tmp;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    /** Counts the connections opened through it. */
    static final class CountingDataSource implements DataSource {
        final DataSource target;
        final AtomicInteger opened = new AtomicInteger();

        CountingDataSource(DataSource target) {
            this.target = target;
        }

        @Override
        public Connection getConnection() throws SQLException {
            opened.incrementAndGet();
            return target.getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            opened.incrementAndGet();
            return target.getConnection(username, password);
        }

        @Override
        public PrintWriter getLogWriter() throws SQLException {
            return target.getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out) throws SQLException {
            target.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            target.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return target.getLoginTimeout();
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            return target.unwrap(iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) throws SQLException {
            return target.isWrapperFor(iface);
        }
    }

    private JdbcBatchStore store(DataSource ds, String prefix) throws Exception {
        JdbcBatchStore store = new JdbcBatchStore(ds, "connections", prefix, SyncPolicy.INTERVAL, MAPPER,
                tmp.resolve("work"));
        store.start();
        closing.add(store);
        return store;
    }

    /** Appends, reads, a state change, claims and checkpoints: what a node does all day. */
    private static void work(JdbcBatchStore store, String tag, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            store.append(CHAT, "m", List.of(rec(tag + "-" + i)), ROOMY);
        }
        assertThat(store.segments()).isNotEmpty();
        String id = store.sealOpen(s -> true, SealReason.FLUSH).get(0);
        assertThat(store.tryClaim(id, "node", 60_000)).isTrue();
        SegmentInfo s = store.segment(id);
        SegmentLifecycle.restore(s, SegmentStatus.FINISHED);
        store.update(s);
        for (int i = 1; i <= n; i++) {
            store.checkpoint(id, i, 0, 0);
        }
        assertThat(BatchStoreContract.ids(store, id)).hasSize(n);
        assertThat(store.carriedHeaders(id)).isEmpty();
        store.complete(store.segment(id));
    }

    @Test
    void anUnpooledDataSourceOpensOnlyTheFewConnectionsTheStoreKeeps() throws Exception {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:connections-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
        h2.setUser("sa");
        CountingDataSource ds = new CountingDataSource(h2);
        JdbcBatchStore store = store(ds, JdbcBatchStore.DEFAULT_TABLE_PREFIX);
        int atStart = ds.opened.get();
        for (int round = 0; round < 3; round++) {
            work(store, "r" + round, 100);
        }
        // 3 x (100 appends, a checkpoint per request, reads, claims, updates): a few kept connections, not one each
        assertThat(ds.opened.get() - atStart).isLessThanOrEqualTo(JdbcBatchStore.IDLE_CONNECTIONS + 2);
    }

    @Test
    void brokenConnectionsAreReplacedWithoutFailingTheWork() throws Exception {
        TestDatabases.requirePostgres();
        String app = "openai-batch-connections-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        PGSimpleDataSource pg = new PGSimpleDataSource();
        pg.setURL(System.getenv(TestDatabases.URL));
        pg.setUser(System.getenv(TestDatabases.USER));
        pg.setPassword(System.getenv(TestDatabases.PASSWORD));
        pg.setApplicationName(app);
        CountingDataSource ds = new CountingDataSource(pg);
        String prefix = TestDatabases.uniquePrefix("conn");
        closing.add(() -> TestDatabases.dropTables(pg, prefix));
        JdbcBatchStore store = store(ds, prefix);
        work(store, "before", 20);
        int before = ds.opened.get();
        assertThat(before).isLessThanOrEqualTo(JdbcBatchStore.IDLE_CONNECTIONS + 3);

        // every connection of the store is killed by the server (a restart or a failover would do the same)
        assertThat(terminate(pg, app)).isPositive();
        store.connections().validateAfterIdleMillis(0);
        work(store, "after", 20);
        assertThat(ds.opened.get()).as("connections opened again").isGreaterThan(before);
        assertThat(store.history(10)).as("both rounds completed").hasSize(2);
    }

    /** Terminates the server processes of the connections with this application name; returns how many. */
    private static int terminate(PGSimpleDataSource pg, String app) throws SQLException {
        PGSimpleDataSource admin = new PGSimpleDataSource();
        admin.setURL(pg.getURL());
        admin.setUser(pg.getUser());
        admin.setPassword(pg.getPassword());
        try (Connection c = admin.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                                       + " WHERE application_name = ? AND pid <> pg_backend_pid()")) {
            ps.setString(1, app);
            int n = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    n += rs.getBoolean(1) ? 1 : 0;
                }
            }
            return n;
        }
    }
}
