package dev.camelbatch.openaibatch;

import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** End to end with the store in H2 (in this JVM). */
class JdbcH2EndToEndTest extends JdbcEndToEndSupport {

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
    DataSource dataSource() {
        return db;
    }

    @Override
    String tablePrefix() {
        return "openai_batch_";
    }
}
