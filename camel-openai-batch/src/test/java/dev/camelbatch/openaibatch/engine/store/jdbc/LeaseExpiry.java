package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Reads and moves the lease expiry that {@link JdbcBatchStore} records ({@code lease_until}, in the database's clock),
 * for the store contract: a lease is shown to expire by what the table says, not by sleeping across it.
 */
final class LeaseExpiry {

    private LeaseExpiry() {
    }

    /** {@code lease_until} minus the database's now, in milliseconds; fails when the segment has no lease. */
    static long millisLeft(DataSource ds, String tablePrefix, String segmentId) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT lease_until - " + JdbcBatchStore.NOW_MS + " FROM "
                                                       + tablePrefix + "segments WHERE id = ?"
                                                       + " AND lease_until IS NOT NULL")) {
            ps.setString(1, segmentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new AssertionError("segment " + segmentId + " has no lease");
                }
                return rs.getLong(1);
            }
        }
    }

    /** Sets {@code lease_until} one second before the database's now, as if the holder had stopped renewing. */
    static void expire(DataSource ds, String tablePrefix, String segmentId) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE " + tablePrefix + "segments SET lease_until = "
                                                       + JdbcBatchStore.NOW_MS + " - 1000 WHERE id = ?"
                                                       + " AND lease_owner IS NOT NULL")) {
            ps.setString(1, segmentId);
            if (ps.executeUpdate() != 1) {
                throw new AssertionError("segment " + segmentId + " has no lease to expire");
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
    }
}
