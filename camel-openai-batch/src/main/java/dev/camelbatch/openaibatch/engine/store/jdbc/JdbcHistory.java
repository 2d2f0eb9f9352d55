package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code history} table of a {@link JdbcBatchStore}: a compact record of each finished segment, written in the
 * transaction that removes the segment, and pruned to the last {@value #KEEP} records per name every
 * {@value #PRUNE_EVERY} completions of this node (pruning is housekeeping: a failure is logged, never raised).
 */
final class JdbcHistory {

    static final int KEEP = 10_000;
    static final int PRUNE_EVERY = 100;
    private static final Logger LOG = LoggerFactory.getLogger(JdbcHistory.class);

    private final JdbcTables tables;
    private final JdbcTransactions tx;
    private final AtomicLong completions = new AtomicLong();

    JdbcHistory(JdbcTables tables, JdbcTransactions tx) {
        this.tables = tables;
        this.tx = tx;
    }

    /** Records a finished segment, in the caller's transaction. */
    void record(Connection c, SegmentInfo finished) throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + tables.history
                                                       + " (name, segment_id, finished_at, state)"
                                                       + " VALUES (?, ?, ?, ?)")) {
            ps.setString(1, tables.name);
            ps.setString(2, finished.getId());
            ps.setLong(3, System.currentTimeMillis());
            ps.setString(4, tables.writeState(finished));
            ps.executeUpdate();
        }
    }

    /** A recorded completion has committed: prunes now and then. */
    void completed() {
        if (completions.incrementAndGet() % PRUNE_EVERY == 0) {
            prune();
        }
    }

    private void prune() {
        try {
            tx.autoCommitted(c -> {
                long keepFrom;
                try (PreparedStatement ps = c.prepareStatement("SELECT seq FROM " + tables.history
                                                               + " WHERE name = ? ORDER BY seq DESC"
                                                               + " LIMIT 1 OFFSET ?")) {
                    ps.setString(1, tables.name);
                    ps.setInt(2, KEEP - 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return null;
                        }
                        keepFrom = rs.getLong(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + tables.history
                                                               + " WHERE name = ? AND seq < ?")) {
                    ps.setString(1, tables.name);
                    ps.setLong(2, keepFrom);
                    ps.executeUpdate();
                }
                return null;
            });
        } catch (IOException e) {
            LOG.debug("Store '{}': cannot prune the history: {}", tables.name, e.toString());
        }
    }

    /** The last {@code max} finished segments, oldest first; unreadable records are skipped. */
    List<SegmentInfo> read(int max) throws IOException {
        return tx.autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT state FROM " + tables.history
                                                           + " WHERE name = ? ORDER BY seq DESC LIMIT ?")) {
                ps.setString(1, tables.name);
                ps.setInt(2, Math.max(0, max));
                List<SegmentInfo> list = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        try {
                            list.add(tables.readState(rs.getString(1)));
                        } catch (IOException e) {
                            LOG.debug("Skipping an unreadable history record: {}", e.getMessage());
                        }
                    }
                }
                Collections.reverse(list);
                return list;
            }
        });
    }
}
