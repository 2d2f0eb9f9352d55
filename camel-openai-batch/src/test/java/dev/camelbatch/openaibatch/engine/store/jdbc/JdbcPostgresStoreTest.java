package dev.camelbatch.openaibatch.engine.store.jdbc;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.BatchStoreContract;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store contract on {@link JdbcBatchStore} over the PostgreSQL server of the tests ({@link TestDatabases}:
 * skipped with a warning when none is configured, failed under CI=true), in tables of its own.
 */
class JdbcPostgresStoreTest extends BatchStoreContract {

    static JdbcConnectionPool db;
    static String prefix;

    @BeforeAll
    static void database() {
        db = TestDatabases.postgres();
        prefix = TestDatabases.uniquePrefix("contract");
    }

    @AfterAll
    static void dispose() {
        if (db != null) {
            TestDatabases.dropTables(db, prefix);
            db.dispose();
        }
    }

    @Override
    protected BatchStore create(String name) throws Exception {
        JdbcBatchStore store = new JdbcBatchStore(db, name, prefix, SyncPolicy.INTERVAL, MAPPER, tmp.resolve("work"));
        store.start();
        assertThat(store.isPostgres()).isTrue();
        return store;
    }

    @Override
    protected boolean shared() {
        return true;
    }

    @Override
    protected long leaseMillisLeft(String segmentId) throws Exception {
        return LeaseExpiry.millisLeft(db, prefix, segmentId);
    }

    @Override
    protected void expireLease(String segmentId) throws Exception {
        LeaseExpiry.expire(db, prefix, segmentId);
    }
}
