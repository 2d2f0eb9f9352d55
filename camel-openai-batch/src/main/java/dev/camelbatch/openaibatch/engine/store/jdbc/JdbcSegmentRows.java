package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Collection;

import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;

/**
 * The rows of the segments table as the writers (appends, documents, sealing) use them.
 * <p>
 * Open segments: a row with {@code open_slot} set is open. Each writer of the store (an append lane of a node) has a
 * slot number of its own and fills the open segment of its slot, so that writers of several nodes never wait for
 * each other's row lock; the unique constraint (name, endpoint, model, open_slot) keeps one open segment per slot
 * and group. While a writer fills its segment it stamps {@code lease_until} (the database's clock) ahead by
 * {@link #ACTIVE_MILLIS}; an open segment whose stamp has run out (its writer stopped, or went idle) or has none
 * (released on close, or the last segment of a document) is adopted by the next writer of its group that has no
 * open segment of its own. {@code lease_owner} stays empty: open segments are nobody's lease.
 */
final class JdbcSegmentRows {

    /** How long an open segment stays its writer's after the writer's last append. */
    static final long ACTIVE_MILLIS = 30_000;
    private static final String LOCK_COLS = "id, open_slot, request_count, bytes, tokens, state";

    private final JdbcTables t;

    JdbcSegmentRows(JdbcTables tables) {
        this.t = tables;
    }

    /**
     * Inserts a segment row: open in {@code openSlot} (stamped as active when {@code active}, adoptable at once
     * otherwise), or not open when {@code openSlot} is null.
     */
    void insert(Connection c, SegmentInfo s, Integer openSlot, boolean active) throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t.segments
                                                       + " (id, name, endpoint, model, status, open_slot, attempt,"
                                                       + " parent_id, request_count, bytes, tokens, created_at,"
                                                       + " updated_at, state, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?,"
                                                       + " ?, ?, ?, ?, ?, ?, ?, "
                                                       + (active ? JdbcTables.NOW_MS + " + " + ACTIVE_MILLIS : "NULL")
                                                       + ")")) {
            ps.setString(1, s.getId());
            ps.setString(2, t.name);
            ps.setString(3, s.getEndpoint());
            ps.setString(4, s.getModel());
            ps.setString(5, s.getStatus().name());
            if (openSlot != null) {
                ps.setInt(6, openSlot);
            } else {
                ps.setNull(6, Types.SMALLINT);
            }
            ps.setInt(7, s.getAttempt());
            ps.setString(8, s.getParentId());
            ps.setInt(9, s.getRequestCount());
            ps.setLong(10, s.getBytes());
            ps.setLong(11, s.getTokens());
            ps.setLong(12, s.getCreatedAt());
            ps.setLong(13, System.currentTimeMillis());
            ps.setString(14, t.writeState(s));
            ps.executeUpdate();
        }
    }

    /** Creates an open segment of the group in the writer's slot. */
    JdbcOpenSegment createOpen(Connection c, String endpoint, String model, SegmentLimits limits, int slot, long now)
            throws SQLException, IOException {
        SegmentInfo s = SegmentInfo.create(t.name, endpoint, model, SegmentStatus.OPEN, now);
        s.setMaxAgeMillis(limits.maxAgeMillis());
        insert(c, s, slot, true);
        return new JdbcOpenSegment(s);
    }

    /** The open segment {@code id} if it is still open in {@code slot}, locked for this transaction; else null. */
    JdbcOpenSegment lockOwn(Connection c, String id, int slot) throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + LOCK_COLS + " FROM " + t.segments
                                                       + " WHERE id = ? AND open_slot = ? FOR UPDATE")) {
            ps.setString(1, id);
            ps.setInt(2, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? read(rs) : null;
            }
        }
    }

    /** The segment {@code id} if it is open (in any slot), locked for this transaction; else null. */
    JdbcOpenSegment lockOpen(Connection c, String id) throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + LOCK_COLS + " FROM " + t.segments
                                                       + " WHERE id = ? AND open_slot IS NOT NULL FOR UPDATE")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? read(rs) : null;
            }
        }
    }

    /**
     * The open segment of the group in the writer's slot, or else one that no writer fills now (adopted into the
     * slot), locked for this transaction; null when there is none. Rows locked by another transaction are skipped.
     */
    JdbcOpenSegment lockOwnOrAdopt(Connection c, String endpoint, String model, int slot)
            throws SQLException, IOException {
        JdbcOpenSegment seg;
        int from;
        try (PreparedStatement ps = c.prepareStatement("SELECT " + LOCK_COLS + " FROM " + t.segments
                                                       + " WHERE name = ? AND endpoint = ? AND model = ?"
                                                       + " AND open_slot IS NOT NULL AND (open_slot = ?"
                                                       + " OR lease_until IS NULL OR lease_until < " + JdbcTables.NOW_MS
                                                       + ") ORDER BY CASE WHEN open_slot = ? THEN 0 ELSE 1 END,"
                                                       + " created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED")) {
            ps.setString(1, t.name);
            ps.setString(2, endpoint);
            ps.setString(3, model);
            ps.setInt(4, slot);
            ps.setInt(5, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                from = rs.getInt(2);
                seg = read(rs);
            }
        }
        if (from != slot) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + t.segments + " SET open_slot = ?,"
                                                           + " lease_until = " + JdbcTables.NOW_MS + " + "
                                                           + ACTIVE_MILLIS + " WHERE id = ?")) {
                ps.setInt(1, slot);
                ps.setString(2, seg.id());
                ps.executeUpdate();
            }
        }
        return seg;
    }

    private JdbcOpenSegment read(ResultSet rs) throws SQLException, IOException {
        SegmentInfo info = t.readState(rs.getString(6));
        info.setId(rs.getString(1));
        info.setRequestCount(rs.getInt(3));
        info.setBytes(rs.getLong(4));
        info.setTokens(rs.getLong(5));
        return new JdbcOpenSegment(info);
    }

    /** Writes the counts of a locked open segment that stays open, and stamps it as active. */
    void writeCounts(Connection c, JdbcOpenSegment seg, long now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + t.segments + " SET request_count = ?, bytes = ?,"
                                                       + " tokens = ?, updated_at = ?, lease_until = "
                                                       + JdbcTables.NOW_MS + " + " + ACTIVE_MILLIS + " WHERE id = ?")) {
            ps.setInt(1, seg.count);
            ps.setLong(2, seg.bytes);
            ps.setLong(3, seg.tokens);
            ps.setLong(4, now);
            ps.setString(5, seg.id());
            ps.executeUpdate();
        }
        seg.dirty = false;
    }

    /** Seals a locked open segment. */
    void seal(Connection c, JdbcOpenSegment seg, SealReason reason, long now) throws SQLException, IOException {
        SegmentInfo s = seg.info;
        s.setRequestCount(seg.count);
        s.setBytes(seg.bytes);
        s.setTokens(seg.tokens);
        SegmentLifecycle.seal(s, reason, now);
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + t.segments + " SET status = ?, open_slot = NULL,"
                                                       + " lease_until = NULL, request_count = ?, bytes = ?,"
                                                       + " tokens = ?, state = ?, updated_at = ? WHERE id = ?")) {
            ps.setString(1, SegmentStatus.SEALED.name());
            ps.setInt(2, seg.count);
            ps.setLong(3, seg.bytes);
            ps.setLong(4, seg.tokens);
            ps.setString(5, t.writeState(s));
            ps.setLong(6, now);
            ps.setString(7, s.getId());
            ps.executeUpdate();
        }
        seg.dirty = false;
    }

    /** Whether the group has an open segment in the slot. */
    boolean hasOpen(Connection c, String endpoint, String model, int slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + t.segments + " WHERE name = ?"
                                                       + " AND endpoint = ? AND model = ? AND open_slot = ?")) {
            ps.setString(1, t.name);
            ps.setString(2, endpoint);
            ps.setString(3, model);
            ps.setInt(4, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Makes the open segments of these slots adoptable at once (their writers stop). */
    void release(Connection c, Collection<Integer> slots) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + t.segments + " SET lease_until = NULL"
                                                       + " WHERE name = ? AND open_slot = ?")) {
            for (int slot : slots) {
                ps.setString(1, t.name);
                ps.setInt(2, slot);
                ps.executeUpdate();
            }
        }
    }
}
