package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import dev.camelbatch.openaibatch.engine.lines.CustomIdSet;
import dev.camelbatch.openaibatch.engine.lines.LongHashSet;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JSONL document in one transaction of the JDBC store: its rows and segments are invisible to everyone else until
 * the commit; a rollback (or the death of the node, which ends the transaction) leaves nothing.
 * <p>
 * The rows stream into the database as the document is read: on PostgreSQL with {@code COPY} (binary) in chunks of
 * {@value #CHUNK_ROWS} rows, or, where the connection does not unwrap to the driver's, with one
 * {@code INSERT ... unnest} per chunk; elsewhere as JDBC batches after a look-up of their ids. The document's
 * segments are written at the commit, with their final counts (sealed, or the last of a model left open).
 * Duplicates: a line that repeats an earlier line is refused at once (a hash of every id of the document is kept);
 * one that repeats a spooled request is found when its chunk is written (the unique index), and named by its line.
 */
final class JdbcDocumentAppender implements BatchStore.DocumentAppender {

    static final int CHUNK_ROWS = 5_000;
    private static final Logger LOG = LoggerFactory.getLogger(JdbcDocumentAppender.class);

    private final JdbcTables t;
    private final JdbcSegmentRows segments;
    private final JdbcRequestRows requests;
    private final JdbcConnections connections;
    private final String endpoint;
    private final SegmentLimits limits;
    private final int openSlot;
    private final Connection c;
    private final boolean copy;
    private final LongHashSet ids = new LongHashSet(1024);
    private final Map<String, Staged> current = new HashMap<>();
    private final List<Staged> all = new ArrayList<>();
    /** The rows of the chunk being written: kept until the chunk is in, to name a duplicate's line. */
    private final List<JdbcRequestRows.Row> chunk = new ArrayList<>(CHUNK_ROWS);
    private final List<Long> chunkLines = new ArrayList<>(CHUNK_ROWS);
    private PgCopyRows copyRows;
    private boolean committed;
    private boolean failed;
    private boolean closed;

    JdbcDocumentAppender(JdbcTables tables, JdbcSegmentRows segments, JdbcRequestRows requests,
                         JdbcConnections connections, boolean asyncCommit, int openSlot, String endpoint,
                         SegmentLimits limits) throws SQLException {
        this.t = tables;
        this.segments = segments;
        this.requests = requests;
        this.connections = connections;
        this.endpoint = endpoint;
        this.limits = limits;
        this.openSlot = openSlot;
        Connection conn = connections.borrow();
        try {
            conn.setAutoCommit(false);
            if (tables.postgres() && asyncCommit) {
                try (Statement s = conn.createStatement()) {
                    s.execute("SET LOCAL synchronous_commit TO OFF");
                }
            }
        } catch (SQLException e) {
            connections.release(conn, e);
            throw e;
        }
        this.c = conn;
        this.copy = tables.postgres() && copyAvailable(conn);
    }

    private static boolean copyAvailable(Connection c) {
        try {
            return PgCopyRows.available(c);
        } catch (LinkageError e) {
            return false;
        }
    }

    @Override
    public void add(String model, SpoolRecord record) throws IOException {
        add(model, record, 0);
    }

    @Override
    public void add(String model, SpoolRecord r, long lineNumber) throws IOException {
        ensureUsable();
        if (!ids.add(CustomIdSet.hash(r.customId()))) {
            throw new DuplicateCustomIdException(t.name, r.customId(), "it repeats an earlier line of the document",
                    lineNumber);
        }
        Staged st = current.get(model);
        int lineBytes = r.line().length;
        if (st != null && st.seg.count > 0
            && limits.wouldOverflow(st.seg.count, st.seg.bytes, st.seg.tokens, lineBytes, r.tokens())) {
            st.sealReason = st.seg.sealReason(limits, lineBytes);
            st = null;
        }
        if (st == null) {
            st = new Staged(model);
            current.put(model, st);
            all.add(st);
        }
        st.seg.add(r);
        JdbcRequestRows.Row row = new JdbcRequestRows.Row(st.seg.id(), st.seg.count, r);
        try {
            if (copy) {
                if (copyRows == null) {
                    copyRows = new PgCopyRows(c, t);
                }
                copyRows.add(row.segmentId(), row.seq(), r);
            }
            chunk.add(row);
            chunkLines.add(lineNumber);
            if (chunk.size() >= CHUNK_ROWS) {
                flush();
            }
        } catch (SQLException e) {
            failed = true;
            throw refusal(e);
        }
    }

    /** A duplicate's refusal for a unique violation, naming its line when it can be found; else the failure. */
    private IOException refusal(SQLException e) {
        if (copyRows != null) {
            copyRows.cancel();
            copyRows = null;
        }
        if (JdbcTransactions.uniqueViolation(e)) {
            // a request with one of these ids was spooled meanwhile (by another node or producer)
            DuplicateCustomIdException dup = findRaced();
            if (dup != null) {
                throw dup;
            }
        }
        return sqlFailure(e);
    }

    /** Writes the chunk (ends its COPY); a duplicate of a spooled request is refused naming its line. */
    private void flush() throws IOException {
        if (chunk.isEmpty()) {
            return;
        }
        try {
            if (copy) {
                PgCopyRows rows = copyRows;
                copyRows = null;
                try {
                    rows.end();
                } catch (SQLException e) {
                    rows.cancel();
                    throw e;
                }
            } else if (t.postgres()) {
                Set<String> inserted = requests.insertSkippingTaken(c, chunk);
                if (inserted.size() < chunk.size()) {
                    for (int i = 0; i < chunk.size(); i++) {
                        String id = chunk.get(i).record().customId();
                        if (!inserted.contains(id)) {
                            throw new DuplicateCustomIdException(t.name, id, null, chunkLines.get(i));
                        }
                    }
                }
            } else {
                List<String> chunkIds = new ArrayList<>(chunk.size());
                for (JdbcRequestRows.Row row : chunk) {
                    chunkIds.add(row.record().customId());
                }
                Set<String> taken = requests.liveIds(c, chunkIds);
                DuplicateCustomIdException dup = duplicateIn(taken);
                if (dup != null) {
                    throw dup;
                }
                requests.insertBatch(c, chunk);
            }
        } catch (SQLException e) {
            failed = true;
            throw refusal(e);
        } catch (RuntimeException e) {
            failed = true;
            throw e;
        }
        chunk.clear();
        chunkLines.clear();
    }

    private DuplicateCustomIdException duplicateIn(Set<String> taken) {
        if (taken.isEmpty()) {
            return null;
        }
        for (int i = 0; i < chunk.size(); i++) {
            String id = chunk.get(i).record().customId();
            if (taken.contains(id)) {
                return new DuplicateCustomIdException(t.name, id, null, chunkLines.get(i));
            }
        }
        return null;
    }

    /** The line of the chunk whose id another transaction spooled (looked up on another connection). */
    private DuplicateCustomIdException findRaced() {
        Connection other = null;
        Throwable failure = null;
        try {
            other = connections.borrow();
            List<String> chunkIds = new ArrayList<>(chunk.size());
            for (JdbcRequestRows.Row row : chunk) {
                chunkIds.add(row.record().customId());
            }
            return duplicateIn(requests.liveIds(other, chunkIds));
        } catch (SQLException e) {
            failure = e;
            LOG.debug("Cannot look for the duplicate: {}", e.toString());
            return null;
        } finally {
            if (other != null) {
                connections.release(other, failure);
            }
        }
    }

    @Override
    public List<String> commit(boolean seal) throws IOException {
        ensureUsable();
        List<String> sealed = new ArrayList<>();
        try {
            flush();
            long now = System.currentTimeMillis();
            for (Staged st : all) {
                SegmentInfo s = st.info();
                boolean last = current.get(s.getModel()) == st && st.sealReason == null;
                if (last && !seal && !limits.isFull(st.seg.count, st.seg.bytes, st.seg.tokens) && insertOpen(st)) {
                    continue;
                }
                SegmentLifecycle.seal(s, SealReason.atCommit(st.sealReason, seal), now);
                segments.insert(c, s, null, false);
                sealed.add(s.getId());
            }
            c.commit();
            committed = true;
            return sealed;
        } catch (SQLException e) {
            failed = true;
            throw sqlFailure(e);
        }
    }

    @Override
    public List<SegmentInfo> commitPrepared(Consumer<SegmentInfo> prepare) throws IOException {
        ensureUsable();
        List<SegmentInfo> out = new ArrayList<>();
        try {
            flush();
            long now = System.currentTimeMillis();
            for (Staged st : all) {
                SegmentInfo s = st.info();
                SegmentLifecycle.seal(s, SealReason.atCommit(st.sealReason, false), now);
                prepare.accept(s);
                if (s.getStatus() == SegmentStatus.OPEN || s.getStatus() == SegmentStatus.STAGING) {
                    throw new IllegalStateException("a prepared segment must be sealed or later, was "
                                                    + s.getStatus());
                }
            }
            for (Staged st : all) {
                segments.insert(c, st.info(), null, false);
                out.add(st.info().copy());
            }
            c.commit();
            committed = true;
            return out;
        } catch (SQLException e) {
            failed = true;
            throw sqlFailure(e);
        }
    }

    /**
     * The last segment of a model stays open for later requests (in the store's first slot, adoptable by any
     * writer), unless the group has an open segment in that slot already.
     */
    private boolean insertOpen(Staged st) throws SQLException, IOException {
        if (segments.hasOpen(c, endpoint, st.seg.info.getModel(), openSlot)) {
            return false;
        }
        Savepoint sp = c.setSavepoint();
        try {
            SegmentLifecycle.move(st.seg.info, SegmentStatus.OPEN);
            segments.insert(c, st.info(), openSlot, false);
            c.releaseSavepoint(sp);
            return true;
        } catch (SQLException e) {
            if (!JdbcTransactions.uniqueViolation(e)) {
                throw e;
            }
            // a writer opened a segment in that slot meanwhile: this one is sealed
            c.rollback(sp);
            return false;
        }
    }

    private void ensureUsable() {
        if (committed || closed || failed) {
            throw new IllegalStateException("The document is " + (committed ? "committed" : "closed"));
        }
    }

    private IOException sqlFailure(SQLException e) {
        SQLException next = e.getNextException();
        String detail = next != null && next != e ? " (" + next.getMessage() + ")" : "";
        return new IOException("Store '" + t.name + "': " + e.getMessage() + detail, e);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (copyRows != null) {
            copyRows.cancel();
            copyRows = null;
        }
        SQLException failure = null;
        if (!committed) {
            try {
                c.rollback();
            } catch (SQLException e) {
                failure = e;
            }
        }
        connections.release(c, failure);
    }

    /** A segment of the document: written at the commit with its final counts. */
    private final class Staged {
        final JdbcOpenSegment seg;
        SealReason sealReason;

        Staged(String model) {
            SegmentInfo info = SegmentInfo.create(t.name, endpoint, model, SegmentStatus.STAGING,
                    System.currentTimeMillis());
            info.setMaxAgeMillis(limits.maxAgeMillis());
            seg = new JdbcOpenSegment(info);
        }

        /** The state with the counts. */
        SegmentInfo info() {
            seg.info.setRequestCount(seg.count);
            seg.info.setBytes(seg.bytes);
            seg.info.setTokens(seg.tokens);
            return seg.info;
        }
    }
}
