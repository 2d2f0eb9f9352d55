package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The emission checkpoints of a JDBC store: one fenced {@code UPDATE} in autocommit on a connection of their own
 * (committed without waiting for the WAL flush), by default for every checkpoint, so that a node that dies delivers
 * at most the line in hand twice.
 * <p>
 * With {@code every > 1} (system property {@code openai-batch.jdbcCheckpointEvery}) a segment's checkpoint is written
 * for every {@code every}-th line only, and whenever the segment is read, changed, completed or released: emission
 * then costs a statement per {@code every} lines instead of one per line, and a node that dies (or loses its lease
 * while it pauses) delivers up to {@code every} lines again.
 */
final class JdbcCheckpoints {

    private record Pending(long output, long errors, long synthetic, String owner) {
    }

    private final JdbcTables t;
    private final JdbcConnections.Held connection;
    private final int every;
    private final Map<String, Pending> pending = new HashMap<>();
    private final Map<String, Integer> sinceWritten = new HashMap<>();
    /** Segments whose deferred checkpoint the database refused (another node holds the lease, or gone). */
    private final Set<String> refused = new HashSet<>();

    JdbcCheckpoints(JdbcTables tables, JdbcConnections.Held connection, int every) {
        this.t = tables;
        this.connection = connection;
        this.every = Math.max(1, every);
    }

    /**
     * Records a checkpoint: written now, or deferred; false when the database refused it (now, or the deferred one
     * before it).
     */
    synchronized boolean checkpoint(String segmentId, long output, long errors, long synthetic, String owner)
            throws SQLException {
        if (refused.remove(segmentId)) {
            pending.remove(segmentId);
            sinceWritten.remove(segmentId);
            return false;
        }
        if (every > 1) {
            int n = sinceWritten.merge(segmentId, 1, Integer::sum);
            if (n < every) {
                pending.put(segmentId, new Pending(output, errors, synthetic, owner));
                return true;
            }
            pending.remove(segmentId);
            sinceWritten.remove(segmentId);
        }
        return write(segmentId, new Pending(output, errors, synthetic, owner));
    }

    /** Writes the deferred checkpoints (before a segment is read, changed, completed or released). */
    synchronized void flush() throws SQLException {
        if (pending.isEmpty()) {
            return;
        }
        for (Iterator<Map.Entry<String, Pending>> it = pending.entrySet().iterator(); it.hasNext();) {
            Map.Entry<String, Pending> e = it.next();
            if (!write(e.getKey(), e.getValue())) {
                refused.add(e.getKey());
            }
            sinceWritten.remove(e.getKey());
            it.remove();
        }
    }

    private boolean write(String segmentId, Pending p) throws SQLException {
        Throwable failure = null;
        try {
            Connection c = connection.get();
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + t.segments + " SET emitted_output = ?,"
                                                           + " emitted_errors = ?, emitted_synthetic = ?"
                                                           + " WHERE id = ? AND name = ?"
                                                           + JdbcLeases.fence(p.owner))) {
                ps.setLong(1, p.output);
                ps.setLong(2, p.errors);
                ps.setLong(3, p.synthetic);
                ps.setString(4, segmentId);
                ps.setString(5, t.name);
                if (p.owner != null) {
                    ps.setString(6, p.owner);
                }
                return ps.executeUpdate() > 0;
            }
        } catch (SQLException e) {
            failure = e;
            throw e;
        } finally {
            connection.done(failure);
        }
    }
}
