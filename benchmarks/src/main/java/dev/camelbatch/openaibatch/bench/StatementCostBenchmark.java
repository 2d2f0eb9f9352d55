package dev.camelbatch.openaibatch.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.UUID;

import dev.camelbatch.openaibatch.engine.store.jdbc.JdbcBatchStore;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * What the statements of the JDBC store cost the PostgreSQL server: CPU of the server process serving the
 * connection (from {@code /proc/<pid>/stat}: the server must run on this machine) and wall time per statement, for
 * the shapes the store uses, in tables of the store's DDL (own prefix, dropped at the end), one connection, with
 * {@code synchronous_commit = off} as the spool (INTERVAL) and the checkpoints commit.
 * <ul>
 * <li>{@code SELECT 1}: a round trip;</li>
 * <li>the one-statement append of n rows (update of the open segment's counts and insert from arrays, in
 * autocommit), for n = 1, 8, 64;</li>
 * <li>{@code COPY} (binary) of 5 000 rows, as a document's chunk, per row;</li>
 * <li>the emission checkpoint (a fenced {@code UPDATE} of the segment row, autocommit).</li>
 * </ul>
 * Arguments: {@code [statements=3000]}. Uses {@code OPENAI_BATCH_TEST_JDBC_URL}, {@code _USER}, {@code _PASSWORD}.
 */
public final class StatementCostBenchmark {

    private static final byte[] LINE = new byte[550];
    private static int pid;

    private StatementCostBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int statements = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        Arrays.fill(LINE, (byte) 'x');
        String prefix = "bench_cost_" + Long.toString(System.currentTimeMillis(), 36) + "_";
        try (Connection c = DriverManager.getConnection(System.getenv("OPENAI_BATCH_TEST_JDBC_URL"),
                System.getenv("OPENAI_BATCH_TEST_JDBC_USER"), System.getenv("OPENAI_BATCH_TEST_JDBC_PASSWORD"))) {
            try (Statement s = c.createStatement()) {
                for (String ddl : JdbcBatchStore.ddl(prefix)) {
                    s.execute(ddl);
                }
                s.execute("SET synchronous_commit TO OFF");
                s.execute("INSERT INTO " + prefix + "segments (id, name, endpoint, model, status, open_slot, attempt,"
                          + " request_count, bytes, tokens, created_at, updated_at, state) VALUES ('seg-open',"
                          + " 'cost', '/v1/chat/completions', 'm', 'OPEN', 7, 1, 0, 0, 0, 0, 0, '"
                          + "{\"id\":\"seg-open\",\"name\":\"cost\",\"status\":\"OPEN\"}')");
                try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
            }
            if (!Files.exists(Path.of("/proc/" + pid + "/stat"))) {
                throw new IllegalStateException("the server process " + pid + " is not on this machine");
            }
            System.out.printf("statement cost: %,d statements per shape, server process %d, %s%n", statements, pid,
                    HeapMeter.machine());
            try {
                for (int round = 0; round < 2; round++) {
                    // the first round warms up (JIT, server caches, prepared statements)
                    boolean print = round == 1;
                    measure(print, "SELECT 1 (a round trip)", statements, 1, () -> select1(c));
                    for (int n : new int[] { 1, 8, 64 }) {
                        measure(print, "one-statement append of " + n + " row(s)", statements, n,
                                () -> append(c, prefix, n));
                    }
                    measure(print, "COPY of 5 000 rows (per row below)", Math.max(4, statements / 500), 5000,
                            () -> copy(c, prefix, 5000));
                    measure(print, "emission checkpoint UPDATE", statements, 1, () -> checkpoint(c, prefix));
                }
            } finally {
                try (Statement s = c.createStatement()) {
                    for (String t : new String[] { "requests", "segments", "history" }) {
                        s.execute("DROP TABLE IF EXISTS " + prefix + t);
                    }
                }
            }
        }
    }

    @FunctionalInterface
    private interface Sql {
        void run() throws SQLException;
    }

    private static void measure(boolean print, String what, int times, int rows, Sql sql) throws Exception {
        double cpu0 = serverSeconds();
        long t0 = System.nanoTime();
        for (int i = 0; i < times; i++) {
            sql.run();
        }
        double wall = (System.nanoTime() - t0) / 1e3 / times;
        double server = (serverSeconds() - cpu0) * 1e6 / times;
        if (print) {
            System.out.printf("  %-40s server CPU %8.1f us/statement (%6.1f us/row), wall %8.1f us/statement%n",
                    what, server, server / rows, wall);
        }
    }

    private static double serverSeconds() throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    private static void select1(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1"); ResultSet rs = ps.executeQuery()) {
            rs.next();
        }
    }

    private static int count;

    /** The shape of the store's one-statement append (JdbcRequestRows.fastAppend). */
    private static void append(Connection c, String p, int n) throws SQLException {
        String[] ids = new String[n];
        int[] tokens = new int[n];
        byte[][] lines = new byte[n][];
        byte[][] carried = new byte[n][];
        for (int i = 0; i < n; i++) {
            ids[i] = UUID.randomUUID().toString();
            tokens[i] = 100;
            lines[i] = LINE;
        }
        try (PreparedStatement ps = c.prepareStatement("WITH seg AS (UPDATE " + p + "segments SET request_count = ?,"
                                                       + " bytes = ?, tokens = ?, updated_at = ?, lease_until ="
                                                       + " CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)"
                                                       + " + 30000 WHERE id = ? AND open_slot = ? AND request_count = ?"
                                                       + " RETURNING id) INSERT INTO " + p + "requests (segment_id, seq,"
                                                       + " name, custom_id, live_id, tokens, line, carried) SELECT"
                                                       + " seg.id, CAST(? + r.ord AS INT), ?, r.cid, r.cid, r.tok,"
                                                       + " r.line, r.carried FROM seg, unnest(?::varchar[], ?::int[],"
                                                       + " ?::bytea[], ?::bytea[]) WITH ORDINALITY AS r(cid, tok, line,"
                                                       + " carried, ord)")) {
            ps.setInt(1, count + n);
            ps.setLong(2, 551L * (count + n));
            ps.setLong(3, 100L * (count + n));
            ps.setLong(4, System.currentTimeMillis());
            ps.setString(5, "seg-open");
            ps.setInt(6, 7);
            ps.setInt(7, count);
            ps.setInt(8, count);
            ps.setString(9, "cost");
            ps.setObject(10, ids);
            ps.setObject(11, tokens);
            ps.setObject(12, lines);
            ps.setObject(13, carried);
            if (ps.executeUpdate() != n) {
                throw new IllegalStateException("the append inserted a different number of rows");
            }
        }
        count += n;
    }

    private static int copySegments;

    /** A document chunk: COPY ... FROM STDIN (FORMAT binary), as PgCopyRows writes it. */
    private static void copy(Connection c, String p, int n) throws SQLException {
        String seg = "seg-doc-" + (++copySegments);
        CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + p + "requests (segment_id, seq, name,"
                                                                     + " custom_id, live_id, tokens, line, carried)"
                                                                     + " FROM STDIN (FORMAT binary)");
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream(n * 700);
        java.io.DataOutputStream out = new java.io.DataOutputStream(b);
        try {
            out.write(new byte[] { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0 });
            out.writeInt(0);
            out.writeInt(0);
            byte[] name = "cost".getBytes(StandardCharsets.UTF_8);
            byte[] segBytes = seg.getBytes(StandardCharsets.UTF_8);
            for (int i = 1; i <= n; i++) {
                byte[] id = UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8);
                out.writeShort(8);
                field(out, segBytes);
                out.writeInt(4);
                out.writeInt(i);
                field(out, name);
                field(out, id);
                field(out, id);
                out.writeInt(4);
                out.writeInt(100);
                field(out, LINE);
                out.writeInt(-1);
            }
            out.writeShort(-1);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] data = b.toByteArray();
        in.writeToCopy(data, 0, data.length);
        in.endCopy();
    }

    private static void field(java.io.DataOutputStream out, byte[] b) throws java.io.IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static long checkpoints;

    /** The emission checkpoint (JdbcCheckpoints): a fenced UPDATE of the segment row. */
    private static void checkpoint(Connection c, String p) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + p + "segments SET emitted_output = ?,"
                                                       + " emitted_errors = ?, emitted_synthetic = ? WHERE id = ?"
                                                       + " AND name = ? AND (lease_owner IS NULL OR lease_owner = ?)")) {
            ps.setLong(1, ++checkpoints);
            ps.setLong(2, 0);
            ps.setLong(3, 0);
            ps.setString(4, "seg-open");
            ps.setString(5, "cost");
            ps.setString(6, "node");
            ps.executeUpdate();
        }
    }
}
