package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.camelbatch.openaibatch.engine.store.LeaseLostException;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases of a {@link JdbcBatchStore}: which node drives a segment past OPEN. A claim takes the segment's row
 * with {@code SELECT … FOR UPDATE SKIP LOCKED} and succeeds when the row has no holder, this owner, or a lease that
 * has expired in the database's clock; the holder renews all its leases at once; the store's changes of a segment
 * are fenced by {@link #fence} and a refused change is explained by {@link #refused}.
 * <p>
 * What the store's reads saw of other owners' leases is kept, so that claiming a segment that another node holds
 * (the common case on every poll of a shared table) does not ask the database until that lease could have
 * expired.
 */
final class JdbcLeases {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcLeases.class);

    private record LeaseView(String owner, long untilNanos) {
    }

    private final JdbcTables tables;
    private final JdbcTransactions tx;
    /** The owner this store claims leases for (the node id of its engine); fences changes once set. */
    private volatile String owner;
    /** What the last reads saw of other owners' leases: claims of segments leased elsewhere skip the database. */
    private final Map<String, LeaseView> seen = new ConcurrentHashMap<>();

    JdbcLeases(JdbcTables tables, JdbcTransactions tx) {
        this.tables = tables;
        this.tx = tx;
    }

    /** The owner of the last claim or renewal, {@code null} before any: the fence of this node's changes. */
    String owner() {
        return owner;
    }

    /** The condition that fences a change of a segment to its lease holder (one more parameter when not empty). */
    static String fence(String owner) {
        return owner == null ? "" : " AND (lease_owner IS NULL OR lease_owner = ?)";
    }

    /** A read saw a segment's lease: {@code holder} ({@code null}: none) for {@code leftMillis} more. */
    void seen(String segmentId, String holder, long leftMillis) {
        if (holder == null) {
            seen.remove(segmentId);
        } else {
            seen.put(segmentId, new LeaseView(holder, System.nanoTime() + leftMillis * 1_000_000L));
        }
    }

    /** Forgets the leases of segments that are gone (a full read saw only {@code live}). */
    void retainSeen(Set<String> live) {
        seen.keySet().retainAll(live);
    }

    void forget(String segmentId) {
        seen.remove(segmentId);
    }

    void forget() {
        seen.clear();
    }

    boolean tryClaim(String segmentId, String owner, long leaseMillis) throws IOException {
        this.owner = owner;
        LeaseView view = seen.get(segmentId);
        if (view != null && view.owner != null && !view.owner.equals(owner) && System.nanoTime() < view.untilNanos) {
            // another node's lease that has not expired when last read: no need to ask the database
            return false;
        }
        Boolean claimed = tx.inTx(false, c -> {
            String holder;
            long left;
            try (PreparedStatement ps = c.prepareStatement("SELECT lease_owner, lease_until - " + JdbcTables.NOW_MS
                                                           + " FROM " + tables.segments + " WHERE id = ? AND name = ?"
                                                           + " AND status NOT IN ('OPEN', 'STAGING')"
                                                           + " FOR UPDATE SKIP LOCKED")) {
                ps.setString(1, segmentId);
                ps.setString(2, tables.name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        // gone, not sealed, or locked by another node's claim right now
                        return false;
                    }
                    holder = rs.getString(1);
                    left = rs.getLong(2);
                    if (rs.wasNull()) {
                        left = 0;
                    }
                }
            }
            if (holder != null && !holder.equals(owner) && left > 0) {
                seen(segmentId, holder, left);
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + tables.segments + " SET lease_owner = ?,"
                                                           + " lease_until = " + JdbcTables.NOW_MS + " + ?"
                                                           + " WHERE id = ?")) {
                ps.setString(1, owner);
                ps.setLong(2, leaseMillis);
                ps.setString(3, segmentId);
                ps.executeUpdate();
            }
            if (holder != null && !holder.equals(owner)) {
                LOG.info("Store '{}': segment {} taken over from '{}' (lease expired {} ms ago) by '{}'",
                        tables.name, segmentId, holder, -left, owner);
            }
            return true;
        });
        if (claimed) {
            seen.remove(segmentId);
        }
        return claimed;
    }

    /** Renews every lease of {@code owner}; the ids of the segments it still holds. */
    Set<String> renew(String owner, long leaseMillis) throws IOException {
        this.owner = owner;
        return tx.inTx(false, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + tables.segments + " SET lease_until = "
                                                           + JdbcTables.NOW_MS + " + ?"
                                                           + " WHERE name = ? AND lease_owner = ?")) {
                ps.setLong(1, leaseMillis);
                ps.setString(2, tables.name);
                ps.setString(3, owner);
                ps.executeUpdate();
            }
            Set<String> held = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + tables.segments
                                                           + " WHERE name = ? AND lease_owner = ?")) {
                ps.setString(1, tables.name);
                ps.setString(2, owner);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        held.add(rs.getString(1));
                    }
                }
            }
            return held;
        });
    }

    void release(String segmentId, String owner) throws IOException {
        tx.autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + tables.segments + " SET lease_owner = NULL,"
                                                           + " lease_until = NULL WHERE id = ? AND lease_owner = ?")) {
                ps.setString(1, segmentId);
                ps.setString(2, owner);
                return ps.executeUpdate();
            }
        });
    }

    void releaseAll(String owner) throws IOException {
        int n = tx.autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + tables.segments + " SET lease_owner = NULL,"
                                                           + " lease_until = NULL"
                                                           + " WHERE name = ? AND lease_owner = ?")) {
                ps.setString(1, tables.name);
                ps.setString(2, owner);
                return ps.executeUpdate();
            }
        });
        if (n > 0) {
            LOG.info("Store '{}': released {} lease(s) of '{}'", tables.name, n, owner);
        }
    }

    /** Lease holders by segment id: {@code owner} or {@code null}. */
    Map<String, String> holders() throws IOException {
        return tx.autoCommitted(c -> {
            Map<String, String> m = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, lease_owner FROM " + tables.segments
                                                           + " WHERE name = ? AND status <> 'STAGING'"
                                                           + " ORDER BY created_at, id")) {
                ps.setString(1, tables.name);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        m.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return m;
        });
    }

    /**
     * Why a fenced change of a segment touched no row: an unknown segment, an open one (when that is an error), or
     * a lease that another node holds now.
     */
    void refused(String segmentId, String owner, boolean openIsError) throws IOException {
        String[] row = tx.autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT status, lease_owner FROM " + tables.segments
                                                           + " WHERE id = ? AND name = ?")) {
                ps.setString(1, segmentId);
                ps.setString(2, tables.name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? new String[] { rs.getString(1), rs.getString(2) } : null;
                }
            }
        });
        if (row == null || SegmentStatus.STAGING.name().equals(row[0])) {
            throw new IllegalStateException("Unknown segment " + segmentId);
        }
        if (openIsError && SegmentStatus.OPEN.name().equals(row[0])) {
            throw new IllegalStateException("Segment " + segmentId + " is open; seal it first");
        }
        seen.put(segmentId, new LeaseView(row[1], System.nanoTime()));
        throw new LeaseLostException(segmentId, owner, row[1]);
    }
}
