package dev.camelbatch.openaibatch;

import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * End to end with the store in the PostgreSQL server of the tests ({@link TestDatabases}: skipped with a warning
 * without one, failed under CI=true).
 */
class JdbcPostgresEndToEndTest extends JdbcEndToEndSupport {

    static JdbcConnectionPool db;
    static String prefix;

    @BeforeAll
    static void database() {
        db = TestDatabases.postgres();
        prefix = TestDatabases.uniquePrefix("e2e");
    }

    @AfterAll
    static void dispose() {
        if (db != null) {
            TestDatabases.dropTables(db, prefix);
            db.dispose();
        }
    }

    @Override
    DataSource dataSource() {
        return db;
    }

    @Override
    String tablePrefix() {
        return prefix;
    }
}
