package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;

import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Request rows streamed into PostgreSQL with {@code COPY ... FROM STDIN (FORMAT binary)} through the driver's
 * {@code CopyManager}: the server inserts the rows as they arrive while the JVM reads and converts the next ones.
 * Only where the connection unwraps to the driver's {@link PGConnection} ({@link #available}); the class is loaded
 * only then, so the PostgreSQL driver stays optional.
 * <p>
 * A COPY stops at the first row that violates a constraint (a custom id spooled already): the whole statement fails
 * with a unique violation and the transaction must be abandoned.
 */
final class PgCopyRows {

    private static final byte[] HEADER = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0,
            0, 0, 0, 0, 0, 0, 0, 0 };
    private static final int FIELDS = 8;

    private final CopyIn copy;
    private final byte[] name;
    private final byte[] buf = new byte[1 << 16];
    private int pos;

    /** Whether the connection can COPY (it unwraps to the PostgreSQL driver's connection). */
    static boolean available(Connection c) {
        try {
            return c.isWrapperFor(PGConnection.class);
        } catch (SQLException | LinkageError e) {
            return false;
        }
    }

    /** Starts a COPY of request rows on the connection (in its transaction). */
    PgCopyRows(Connection c, JdbcTables t) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        this.copy = pg.getCopyAPI().copyIn("COPY " + t.requests + " (segment_id, seq, name, custom_id, live_id,"
                                           + " tokens, line, carried) FROM STDIN (FORMAT binary)");
        this.name = t.name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(HEADER, 0, buf, 0, HEADER.length);
        pos = HEADER.length;
    }

    /** Adds a row (the request's custom id is live). */
    void add(String segmentId, int seq, SpoolRecord r) throws SQLException {
        byte[] seg = segmentId.getBytes(StandardCharsets.UTF_8);
        byte[] id = r.customId().getBytes(StandardCharsets.UTF_8);
        byte[] line = r.line();
        byte[] carried = r.carriedHeaders();
        short16(FIELDS);
        field(seg);
        int32(4);
        int32(seq);
        field(name);
        field(id);
        field(id);
        int32(4);
        int32(r.tokens());
        field(line);
        if (carried == null) {
            int32(-1);
        } else {
            field(carried);
        }
    }

    /** Ends the COPY; returns the rows inserted. */
    long end() throws SQLException {
        short16(-1);
        flush();
        return copy.endCopy();
    }

    /** Abandons the COPY (its transaction must be rolled back). */
    void cancel() {
        try {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        } catch (SQLException e) {
            // the connection is broken or the COPY failed already
        }
    }

    private void field(byte[] b) throws SQLException {
        int32(b.length);
        if (b.length > buf.length - pos) {
            flush();
            if (b.length > buf.length) {
                copy.writeToCopy(b, 0, b.length);
                return;
            }
        }
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    private void int32(int v) throws SQLException {
        if (buf.length - pos < 4) {
            flush();
        }
        buf[pos] = (byte) (v >>> 24);
        buf[pos + 1] = (byte) (v >>> 16);
        buf[pos + 2] = (byte) (v >>> 8);
        buf[pos + 3] = (byte) v;
        pos += 4;
    }

    private void short16(int v) throws SQLException {
        if (buf.length - pos < 2) {
            flush();
        }
        buf[pos] = (byte) (v >>> 8);
        buf[pos + 1] = (byte) v;
        pos += 2;
    }

    private void flush() throws SQLException {
        if (pos > 0) {
            copy.writeToCopy(buf, 0, pos);
            pos = 0;
        }
    }
}
