package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;

import dev.camelbatch.openaibatch.api.OpenAIJson;
import dev.camelbatch.openaibatch.engine.store.BatchStoreContract;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The DDL of the JDBC store: the shipped script, creation on start, schemas managed by the user. */
@Timeout(300)
class JdbcSchemaTest {

    @TempDir
    Path tmp;

    static String shippedScript() throws Exception {
        try (InputStream in = JdbcBatchStore.class.getResourceAsStream("/openai-batch-schema-postgresql.sql")) {
            assertThat(in).as("openai-batch-schema-postgresql.sql on the class path").isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static void runScript(DataSource ds, String script) throws Exception {
        StringBuilder sql = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.startsWith("--")) {
                sql.append(line).append('\n');
            }
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (String stmt : sql.toString().split(";")) {
                if (!stmt.isBlank()) {
                    s.execute(stmt);
                }
            }
        }
    }

    JdbcBatchStore store(DataSource ds, String prefix) {
        return new JdbcBatchStore(ds, "schema-test", prefix, SyncPolicy.INTERVAL, OpenAIJson.mapper(),
                tmp.resolve("work"));
    }

    @Test
    void theShippedScriptIsTheDdlOfTheStore() throws Exception {
        String script = shippedScript();
        StringBuilder withoutComments = new StringBuilder();
        for (String line : script.split("\n", -1)) {
            if (!line.startsWith("--")) {
                withoutComments.append(line).append('\n');
            }
        }
        assertThat(withoutComments.toString().strip())
                .isEqualTo(JdbcBatchStore.ddlScript(JdbcBatchStore.DEFAULT_TABLE_PREFIX).strip());
    }

    @Test
    void aManagedSchemaIsUsedAsIsAndAMissingOneIsReported() throws Exception {
        for (boolean pgMode : new boolean[] { false, true }) {
            JdbcConnectionPool db = TestDatabases.h2(pgMode);
            try {
                assertThatThrownBy(() -> store(db, null).createSchema(false).start())
                        .hasMessageContaining("do not exist").hasMessageContaining("openai-batch-schema-postgresql.sql");
                runScript(db, shippedScript());
                // idempotent
                runScript(db, shippedScript());
                JdbcBatchStore s = store(db, null).createSchema(false);
                s.start();
                s.append("/v1/chat/completions", "m", List.of(BatchStoreContract.rec("a")),
                        BatchStoreContract.ROOMY);
                assertThat(s.segments()).hasSize(1);
            } finally {
                db.dispose();
            }
        }
    }

    @Test
    void tablesAreCreatedOnStartUnderAPrefixAndASchema() throws Exception {
        JdbcConnectionPool db = TestDatabases.h2(false);
        try {
            try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA batch");
            }
            JdbcBatchStore a = store(db, "batch.app1_");
            a.start();
            JdbcBatchStore b = store(db, "app2_");
            b.start();
            a.append("/v1/chat/completions", "m", List.of(BatchStoreContract.rec("x")), BatchStoreContract.ROOMY);
            assertThat(a.segments()).hasSize(1);
            assertThat(b.segments()).isEmpty();
            // started again: the tables exist, nothing is lost
            JdbcBatchStore again = store(db, "batch.app1_");
            again.start();
            assertThat(again.segments()).hasSize(1);
        } finally {
            db.dispose();
        }
        assertThatThrownBy(() -> store(db, "x; DROP TABLE y")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nodesStartingTogetherOnPostgresCreateTheTablesOnce() throws Exception {
        JdbcConnectionPool db = TestDatabases.postgres();
        String prefix = TestDatabases.uniquePrefix("schema");
        try {
            List<Thread> threads = new java.util.ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> {
                    try {
                        store(db, prefix).start();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join(30_000);
            }
            assertThat(failures).isEmpty();
            runScript(db, shippedScript().replace("openai_batch_", prefix));
        } finally {
            TestDatabases.dropTables(db, prefix);
            db.dispose();
        }
    }
}
