package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.camelbatch.openaibatch.engine.store.SpoolRecord;

/**
 * The SQL of the requests table for the writers.
 * <ul>
 * <li>PostgreSQL: a group of rows is one {@code INSERT ... SELECT FROM unnest(arrays)}: one statement (one
 * prepared text whatever the number of rows), with the duplicate check done by the unique index (name, live_id) in
 * the same statement ({@code ON CONFLICT DO NOTHING RETURNING}: the rows skipped are the duplicates). The fast
 * append adds the update of its open segment's counts to the same statement (a data-modifying {@code WITH}): with
 * autocommit, one round trip stores a group of requests.</li>
 * <li>Other databases (H2): the ids are looked up first, then the rows go in as one JDBC batch; a duplicate that
 * races in between is refused by the unique index (the transaction is retried).</li>
 * </ul>
 */
final class JdbcRequestRows {

    /** A request row to insert. */
    record Row(String segmentId, int seq, SpoolRecord record) {
    }

    /** Rows per JDBC batch, and ids per {@code IN} list. */
    static final int BATCH_ROWS = 1000;
    static final int IN_CHUNK = 500;
    /** Rows per {@code unnest} statement (a bound on the size of one statement's parameters). */
    static final int UNNEST_ROWS = 10_000;

    private final JdbcTables t;

    JdbcRequestRows(JdbcTables tables) {
        this.t = tables;
    }

    String insertSql() {
        return "INSERT INTO " + t.requests + " (segment_id, seq, name, custom_id, live_id, tokens, line, carried)"
               + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    }

    void bind(PreparedStatement ps, String segmentId, int seq, SpoolRecord r, boolean live) throws SQLException {
        ps.setString(1, segmentId);
        ps.setInt(2, seq);
        ps.setString(3, t.name);
        ps.setString(4, r.customId());
        ps.setString(5, live ? r.customId() : null);
        ps.setInt(6, r.tokens());
        ps.setBytes(7, r.line());
        ps.setBytes(8, r.carriedHeaders());
    }

    /** Inserts the rows as JDBC batches (a duplicate fails the batch with a unique violation). */
    void insertBatch(Connection c, List<Row> rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(insertSql())) {
            int batched = 0;
            for (Row row : rows) {
                bind(ps, row.segmentId(), row.seq(), row.record(), true);
                ps.addBatch();
                if (++batched >= BATCH_ROWS) {
                    ps.executeBatch();
                    batched = 0;
                }
            }
            if (batched > 0) {
                ps.executeBatch();
            }
        }
    }

    /**
     * PostgreSQL: inserts the rows, skipping those whose custom id is spooled already (the unique index decides, in
     * the same statement); returns the custom ids inserted.
     */
    Set<String> insertSkippingTaken(Connection c, List<Row> rows) throws SQLException {
        Set<String> inserted = new HashSet<>(rows.size() * 2);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t.requests + " (segment_id, seq, name,"
                                                       + " custom_id, live_id, tokens, line, carried)"
                                                       + " SELECT r.seg, r.seq, ?, r.cid, r.cid, r.tok, r.line,"
                                                       + " r.carried FROM unnest(?::varchar[], ?::int[],"
                                                       + " ?::varchar[], ?::int[], ?::bytea[], ?::bytea[])"
                                                       + " AS r(seg, seq, cid, tok, line, carried)"
                                                       + " ON CONFLICT (name, live_id) DO NOTHING RETURNING live_id")) {
            for (int from = 0; from < rows.size(); from += UNNEST_ROWS) {
                List<Row> chunk = rows.subList(from, Math.min(rows.size(), from + UNNEST_ROWS));
                int n = chunk.size();
                String[] segs = new String[n];
                int[] seqs = new int[n];
                String[] ids = new String[n];
                int[] tokens = new int[n];
                byte[][] lines = new byte[n][];
                byte[][] carried = new byte[n][];
                for (int i = 0; i < n; i++) {
                    Row row = chunk.get(i);
                    segs[i] = row.segmentId();
                    seqs[i] = row.seq();
                    ids[i] = row.record().customId();
                    tokens[i] = row.record().tokens();
                    lines[i] = row.record().line();
                    carried[i] = row.record().carriedHeaders();
                }
                ps.setString(1, t.name);
                ps.setObject(2, segs);
                ps.setObject(3, seqs);
                ps.setObject(4, ids);
                ps.setObject(5, tokens);
                ps.setObject(6, lines);
                ps.setObject(7, carried);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        inserted.add(rs.getString(1));
                    }
                }
            }
        }
        return inserted;
    }

    /**
     * PostgreSQL, the fast append: in one statement, moves the open segment's counts from {@code count} to those
     * given (and stamps it active) if it is still open in {@code slot} with {@code count} requests, and inserts the
     * records after them. Returns the rows inserted: all of them, or 0 when the segment was sealed, adopted or
     * filled by another writer meanwhile (then nothing changed). A duplicate custom id fails the statement with a
     * unique violation (nothing changed either).
     */
    int fastAppend(Connection c, JdbcOpenSegment seg, int slot, List<SpoolRecord> records, int newCount,
            long newBytes, long newTokens, long now) throws SQLException {
        int n = records.size();
        String[] ids = new String[n];
        int[] tokens = new int[n];
        byte[][] lines = new byte[n][];
        byte[][] carried = new byte[n][];
        for (int i = 0; i < n; i++) {
            SpoolRecord r = records.get(i);
            ids[i] = r.customId();
            tokens[i] = r.tokens();
            lines[i] = r.line();
            carried[i] = r.carriedHeaders();
        }
        try (PreparedStatement ps = c.prepareStatement("WITH seg AS (UPDATE " + t.segments + " SET request_count = ?,"
                                                       + " bytes = ?, tokens = ?, updated_at = ?, lease_until = "
                                                       + JdbcTables.NOW_MS + " + " + JdbcSegmentRows.ACTIVE_MILLIS
                                                       + " WHERE id = ? AND open_slot = ? AND request_count = ?"
                                                       + " RETURNING id)"
                                                       + " INSERT INTO " + t.requests + " (segment_id, seq, name,"
                                                       + " custom_id, live_id, tokens, line, carried)"
                                                       + " SELECT seg.id, CAST(? + r.ord AS INT), ?, r.cid, r.cid,"
                                                       + " r.tok, r.line, r.carried FROM seg, unnest(?::varchar[],"
                                                       + " ?::int[], ?::bytea[], ?::bytea[]) WITH ORDINALITY"
                                                       + " AS r(cid, tok, line, carried, ord)")) {
            ps.setInt(1, newCount);
            ps.setLong(2, newBytes);
            ps.setLong(3, newTokens);
            ps.setLong(4, now);
            ps.setString(5, seg.id());
            ps.setInt(6, slot);
            ps.setInt(7, seg.count);
            ps.setInt(8, seg.count);
            ps.setString(9, t.name);
            ps.setObject(10, ids);
            ps.setObject(11, tokens);
            ps.setObject(12, lines);
            ps.setObject(13, carried);
            return ps.executeUpdate();
        }
    }

    /** Which of the ids are spooled or in flight under the name. */
    Set<String> liveIds(Connection c, Collection<String> ids) throws SQLException {
        if (ids.isEmpty()) {
            return Set.of();
        }
        Set<String> found = new HashSet<>();
        List<String> all = new ArrayList<>(ids);
        for (int from = 0; from < all.size(); from += IN_CHUNK) {
            List<String> chunk = all.subList(from, Math.min(all.size(), from + IN_CHUNK));
            StringBuilder sql = new StringBuilder("SELECT live_id FROM ").append(t.requests)
                    .append(" WHERE name = ? AND live_id IN (");
            for (int i = 0; i < chunk.size(); i++) {
                sql.append(i == 0 ? "?" : ", ?");
            }
            sql.append(')');
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                ps.setString(1, t.name);
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setString(i + 2, chunk.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        found.add(rs.getString(1));
                    }
                }
            }
        }
        return found;
    }
}
