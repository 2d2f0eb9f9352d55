package dev.camelbatch.openaibatch.engine.store.jdbc;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.BatchStoreContract;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on {@link JdbcBatchStore} over plain H2 (in this JVM). */
class JdbcH2StoreTest extends BatchStoreContract {

    static JdbcConnectionPool db;

    @BeforeAll
    static void database() {
        db = TestDatabases.h2(false);
    }

    @AfterAll
    static void dispose() {
        db.dispose();
    }

    @Override
    protected BatchStore create(String name) throws Exception {
        JdbcBatchStore store = new JdbcBatchStore(db, name, JdbcBatchStore.DEFAULT_TABLE_PREFIX, SyncPolicy.INTERVAL,
                MAPPER, tmp.resolve("work"));
        store.start();
        return store;
    }

    @Override
    protected boolean shared() {
        return true;
    }

    @Override
    protected long leaseMillisLeft(String segmentId) throws Exception {
        return LeaseExpiry.millisLeft(db, JdbcBatchStore.DEFAULT_TABLE_PREFIX, segmentId);
    }

    @Override
    protected void expireLease(String segmentId) throws Exception {
        LeaseExpiry.expire(db, JdbcBatchStore.DEFAULT_TABLE_PREFIX, segmentId);
    }
}
