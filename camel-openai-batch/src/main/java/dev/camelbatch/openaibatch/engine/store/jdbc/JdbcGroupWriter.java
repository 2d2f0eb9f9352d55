package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the calls a lane's leader took from its queue ({@link JdbcSpool}), group by group (endpoint, model):
 * <ul>
 * <li><b>in one statement</b> (PostgreSQL) when the lane knows its open segment of the group and the rows fit into
 * it without filling it: the segment's counts and every row, in autocommit;</li>
 * <li>otherwise <b>in a transaction</b>: the open segment locked (or adopted, or created), segments sealed and
 * opened as the limits say, every row in one statement ({@link JdbcRequestRows}), the counts written once per
 * segment.</li>
 * </ul>
 * A duplicate custom id fails only the call that holds it (all of its records): on PostgreSQL the insert skips it
 * and the transaction is written again without that call; elsewhere the ids are looked up first. Calls that repeat
 * each other's ids go into the next round, where the database decides. When the database refuses something else of
 * one of several calls, each is written in a transaction of its own, so that only that call fails.
 */
final class JdbcGroupWriter {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcGroupWriter.class);

    private final JdbcTables t;
    private final JdbcSegmentRows segments;
    private final JdbcRequestRows requests;
    final AtomicLong writes = new AtomicLong();
    final AtomicLong fastWrites = new AtomicLong();

    JdbcGroupWriter(JdbcTables tables, JdbcSegmentRows segments, JdbcRequestRows requests) {
        this.t = tables;
        this.segments = segments;
        this.requests = requests;
    }

    /** Writes the calls of a lane (every call has its outcome when this returns, or it throws). */
    void write(JdbcLane lane, List<JdbcAppendCall> calls) {
        try {
            List<JdbcAppendCall> remaining = calls;
            while (!remaining.isEmpty()) {
                // a call that repeats an id of an earlier call of this write goes into the next round, where the
                // database decides (the earlier call may itself be refused)
                List<JdbcAppendCall> round = remaining;
                List<JdbcAppendCall> later = List.of();
                if (remaining.size() > 1) {
                    round = new ArrayList<>(remaining.size());
                    later = new ArrayList<>();
                    Set<String> ids = new HashSet<>();
                    for (JdbcAppendCall call : remaining) {
                        boolean repeats = false;
                        for (SpoolRecord r : call.records) {
                            if (ids.contains(r.customId())) {
                                repeats = true;
                                break;
                            }
                        }
                        if (repeats) {
                            later.add(call);
                        } else {
                            for (SpoolRecord r : call.records) {
                                ids.add(r.customId());
                            }
                            round.add(call);
                        }
                    }
                }
                writeRound(lane, round);
                remaining = later;
            }
        } catch (RuntimeException | Error e) {
            for (JdbcAppendCall call : calls) {
                if (!call.done) {
                    call.fail(new IOException("Store '" + t.name + "': append failed: " + e, e));
                }
            }
            throw e;
        }
    }

    /** Writes calls without repeated ids among them: the groups that can take the fast path, then the rest. */
    private void writeRound(JdbcLane lane, List<JdbcAppendCall> calls) {
        Map<String, List<JdbcAppendCall>> byGroup = new LinkedHashMap<>();
        for (JdbcAppendCall call : calls) {
            byGroup.computeIfAbsent(call.group, g -> new ArrayList<>()).add(call);
        }
        List<JdbcAppendCall> rest = new ArrayList<>();
        for (Map.Entry<String, List<JdbcAppendCall>> e : byGroup.entrySet()) {
            JdbcOpenSegment seg = lane.open.get(e.getKey());
            if (t.postgres() && seg != null && fits(seg, e.getValue())) {
                if (!writeFast(lane, seg, e.getKey(), e.getValue())) {
                    rest.addAll(e.getValue());
                }
            } else {
                rest.addAll(e.getValue());
            }
        }
        if (!rest.isEmpty()) {
            writeInTransaction(lane, rest);
        }
    }

    /** Whether the calls' records go into the segment without sealing it (by any of their limits). */
    private static boolean fits(JdbcOpenSegment seg, List<JdbcAppendCall> calls) {
        int rows = 0;
        for (JdbcAppendCall call : calls) {
            rows += call.records.size();
        }
        if (rows > JdbcRequestRows.UNNEST_ROWS) {
            return false;
        }
        int count = seg.count;
        long bytes = seg.bytes;
        long tokens = seg.tokens;
        for (JdbcAppendCall call : calls) {
            for (SpoolRecord r : call.records) {
                if (count > 0 && call.limits.wouldOverflow(count, bytes, tokens, r.line().length, r.tokens())) {
                    return false;
                }
                count++;
                bytes += r.line().length + 1;
                tokens += r.tokens();
                if (call.limits.isFull(count, bytes, tokens)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The fast path: one statement. Returns false when it could not be taken (the segment changed, a duplicate):
     * nothing was stored then and the calls go through a transaction.
     */
    private boolean writeFast(JdbcLane lane, JdbcOpenSegment seg, String group, List<JdbcAppendCall> calls) {
        List<SpoolRecord> records;
        if (calls.size() == 1) {
            records = calls.get(0).records;
        } else {
            records = new ArrayList<>();
            for (JdbcAppendCall call : calls) {
                records.addAll(call.records);
            }
        }
        int count = seg.count + records.size();
        long bytes = seg.bytes;
        long tokens = seg.tokens;
        for (SpoolRecord r : records) {
            bytes += r.line().length + 1;
            tokens += r.tokens();
        }
        SQLException failure = null;
        Connection c = null;
        try {
            c = lane.connection.get();
            try {
                int n = requests.fastAppend(c, seg, lane.slot, records, count, bytes, tokens,
                        System.currentTimeMillis());
                if (n != records.size()) {
                    // sealed (by age, a flush), adopted by another writer, or changed: read it again
                    lane.open.remove(group);
                    return false;
                }
            } catch (SQLException e) {
                failure = e;
                throw e;
            } finally {
                lane.connection.done(failure);
            }
        } catch (SQLException e) {
            if (JdbcTransactions.uniqueViolation(e)) {
                // a duplicate custom id: the transaction finds out whose
                return false;
            }
            lane.open.remove(group);
            if (c != null && !JdbcConnections.broken(c, e)) {
                // the statement failed (and changed nothing), the connection is fine: one of the calls may hold
                // something the database refuses; the transaction path finds out whose
                return false;
            }
            // the connection broke: whether the statement committed is not known
            IOException io = sqlFailure(e);
            for (JdbcAppendCall call : calls) {
                call.fail(io);
            }
            return true;
        }
        seg.count = count;
        seg.bytes = bytes;
        seg.tokens = tokens;
        writes.incrementAndGet();
        fastWrites.incrementAndGet();
        for (JdbcAppendCall call : calls) {
            call.succeed(List.of());
        }
        return true;
    }

    /**
     * Writes the calls in one transaction on the lane's connection (written again without refused calls); when the
     * database refuses something of one of several calls, each call in a transaction of its own.
     */
    private void writeInTransaction(JdbcLane lane, List<JdbcAppendCall> calls) {
        List<JdbcAppendCall> alone = writeTogether(lane, calls);
        if (alone != null) {
            for (JdbcAppendCall call : alone) {
                writeTogether(lane, List.of(call));
            }
        }
    }

    /** Writes the calls in one transaction; returns the calls to write one by one, or null. */
    private List<JdbcAppendCall> writeTogether(JdbcLane lane, List<JdbcAppendCall> calls) {
        List<JdbcAppendCall> todo = calls;
        for (int attempt = 1;; attempt++) {
            Throwable failure = null;
            Connection c = null;
            try {
                c = lane.connection.get();
                c.setAutoCommit(false);
                Outcome out = writeCalls(c, lane, todo);
                if (!out.refusedAfterWrite.isEmpty()) {
                    // the statement skipped the rows of some calls (duplicates): without them, from the start
                    c.rollback();
                    List<JdbcAppendCall> left = new ArrayList<>(todo.size());
                    for (JdbcAppendCall call : todo) {
                        RuntimeException r = out.refusedAfterWrite.get(call);
                        if (r != null) {
                            call.refuse(r);
                        } else if (!call.done) {
                            left.add(call);
                        }
                    }
                    todo = left;
                    if (todo.isEmpty()) {
                        return null;
                    }
                    attempt--;
                    continue;
                }
                c.commit();
                writes.incrementAndGet();
                for (Map.Entry<String, JdbcOpenSegment> e : out.open.entrySet()) {
                    if (e.getValue() != null) {
                        lane.open.put(e.getKey(), e.getValue());
                    } else {
                        lane.open.remove(e.getKey());
                    }
                }
                for (Map.Entry<JdbcAppendCall, List<String>> e : out.sealed.entrySet()) {
                    e.getKey().succeed(e.getValue());
                }
                return null;
            } catch (SQLException e) {
                failure = e;
                rollbackQuietly(c);
                forget(lane, todo);
                if (attempt < JdbcTransactions.MAX_ATTEMPTS && (JdbcTransactions.transientFailure(e)
                                               || JdbcTransactions.uniqueViolation(e))) {
                    // a deadlock, or a duplicate committed by another node after the look-up, or two writers that
                    // opened a segment in one slot at once: the next attempt sees what they committed
                    LOG.debug("Store '{}': append retried after {}", t.name, e.toString());
                    JdbcTransactions.pause(attempt);
                    continue;
                }
                List<JdbcAppendCall> left = new ArrayList<>(todo.size());
                for (JdbcAppendCall call : todo) {
                    if (!call.done) {
                        left.add(call);
                    }
                }
                if (left.size() > 1 && !JdbcConnections.broken(c, e)) {
                    // the database refused something of one of the calls (the connection is fine): each call in a
                    // transaction of its own, so that only the one that holds it fails
                    LOG.debug("Store '{}': a write of {} calls failed ({}); writing them one by one", t.name,
                            left.size(), e.toString());
                    return left;
                }
                IOException io = sqlFailure(e);
                for (JdbcAppendCall call : left) {
                    call.fail(io);
                }
                return null;
            } catch (IOException | RuntimeException e) {
                failure = e;
                rollbackQuietly(c);
                forget(lane, todo);
                IOException io = e instanceof IOException x ? x
                        : new IOException("Store '" + t.name + "': append failed: " + e, e);
                for (JdbcAppendCall call : todo) {
                    if (!call.done) {
                        call.fail(io);
                    }
                }
                return null;
            } finally {
                if (c != null) {
                    try {
                        c.setAutoCommit(true);
                    } catch (SQLException e) {
                        failure = failure != null ? failure : e;
                    }
                    lane.connection.done(failure);
                }
            }
        }
    }

    /** After a failed transaction the lane's picture of its open segments may be wrong: read them again. */
    private static void forget(JdbcLane lane, List<JdbcAppendCall> calls) {
        for (JdbcAppendCall call : calls) {
            lane.open.remove(call.group);
        }
    }

    /** What a transaction did: the ids each call sealed, the open segment of each group after it, the refusals. */
    private static final class Outcome {
        final Map<JdbcAppendCall, List<String>> sealed = new IdentityHashMap<>();
        final Map<String, JdbcOpenSegment> open = new HashMap<>();
        final Map<JdbcAppendCall, RuntimeException> refusedAfterWrite = new IdentityHashMap<>();
    }

    /** Writes the calls in the transaction of {@code c}. */
    private Outcome writeCalls(Connection c, JdbcLane lane, List<JdbcAppendCall> calls)
            throws SQLException, IOException {
        Outcome out = new Outcome();
        List<JdbcAppendCall> accepted = new ArrayList<>(calls.size());
        for (JdbcAppendCall call : calls) {
            if (!call.done) {
                // (refused by the look-up of an earlier attempt)
                accepted.add(call);
            }
        }
        if (!t.postgres()) {
            // the ids are looked up first (elsewhere the insert statement finds the duplicates)
            Set<String> ids = new HashSet<>();
            for (JdbcAppendCall call : accepted) {
                for (SpoolRecord r : call.records) {
                    ids.add(r.customId());
                }
            }
            Set<String> taken = requests.liveIds(c, ids);
            if (!taken.isEmpty()) {
                List<JdbcAppendCall> all = accepted;
                accepted = new ArrayList<>(all.size());
                for (JdbcAppendCall call : all) {
                    RuntimeException dup = duplicateIn(call, taken);
                    if (dup != null) {
                        call.refuse(dup);
                    } else {
                        accepted.add(call);
                    }
                }
            }
        }
        // groups in a fixed order: transactions of several lanes and nodes lock segments in the same order
        Map<String, List<JdbcAppendCall>> byGroup = new TreeMap<>();
        for (JdbcAppendCall call : accepted) {
            byGroup.computeIfAbsent(call.group, g -> new ArrayList<>()).add(call);
        }
        long now = System.currentTimeMillis();
        List<JdbcRequestRows.Row> rows = new ArrayList<>();
        Map<JdbcRequestRows.Row, JdbcAppendCall> owners = t.postgres() ? new IdentityHashMap<>() : null;
        for (Map.Entry<String, List<JdbcAppendCall>> e : byGroup.entrySet()) {
            JdbcAppendCall first = e.getValue().get(0);
            JdbcOpenSegment seg = lockOpen(c, lane, e.getKey(), first.endpoint, first.model);
            for (JdbcAppendCall call : e.getValue()) {
                List<String> sealed = new ArrayList<>(1);
                for (SpoolRecord r : call.records) {
                    int lineBytes = r.line().length;
                    if (seg == null) {
                        seg = segments.createOpen(c, call.endpoint, call.model, call.limits, lane.slot, now);
                    } else if (seg.count > 0
                               && call.limits.wouldOverflow(seg.count, seg.bytes, seg.tokens, lineBytes, r.tokens())) {
                        segments.seal(c, seg, seg.sealReason(call.limits, lineBytes), now);
                        sealed.add(seg.id());
                        seg = segments.createOpen(c, call.endpoint, call.model, call.limits, lane.slot, now);
                    }
                    seg.add(r);
                    JdbcRequestRows.Row row = new JdbcRequestRows.Row(seg.id(), seg.count, r);
                    rows.add(row);
                    if (owners != null) {
                        owners.put(row, call);
                    }
                    if (call.limits.isFull(seg.count, seg.bytes, seg.tokens)) {
                        segments.seal(c, seg, seg.sealReason(call.limits, 0), now);
                        sealed.add(seg.id());
                        seg = null;
                    }
                }
                out.sealed.put(call, sealed);
            }
            if (seg != null && seg.dirty) {
                segments.writeCounts(c, seg, now);
            }
            out.open.put(e.getKey(), seg);
        }
        if (t.postgres()) {
            Set<String> inserted = requests.insertSkippingTaken(c, rows);
            if (inserted.size() < rows.size()) {
                Set<String> taken = new HashSet<>();
                for (JdbcRequestRows.Row row : rows) {
                    if (!inserted.contains(row.record().customId())) {
                        taken.add(row.record().customId());
                    }
                }
                for (JdbcAppendCall call : accepted) {
                    RuntimeException dup = duplicateIn(call, taken);
                    if (dup != null) {
                        out.refusedAfterWrite.put(call, dup);
                    }
                }
                if (out.refusedAfterWrite.isEmpty()) {
                    throw new IllegalStateException("rows were skipped without a duplicate custom id: " + taken);
                }
            }
        } else {
            requests.insertBatch(c, rows);
        }
        return out;
    }

    /** The refusal of a call holding one of the taken ids, or null. */
    private DuplicateCustomIdException duplicateIn(JdbcAppendCall call, Set<String> taken) {
        for (int i = 0; i < call.records.size(); i++) {
            String id = call.records.get(i).customId();
            if (taken.contains(id)) {
                return new DuplicateCustomIdException(t.name, id, call.records.size() > 1 ? "line " + (i + 1) : null);
            }
        }
        return null;
    }

    /** The lane's open segment of a group, locked: the one it knows, or its slot's, or an adopted one; or null. */
    private JdbcOpenSegment lockOpen(Connection c, JdbcLane lane, String group, String endpoint, String model)
            throws SQLException, IOException {
        JdbcOpenSegment known = lane.open.get(group);
        if (known != null) {
            JdbcOpenSegment seg = segments.lockOwn(c, known.id(), lane.slot);
            if (seg != null) {
                return seg;
            }
        }
        return segments.lockOwnOrAdopt(c, endpoint, model, lane.slot);
    }

    private IOException sqlFailure(SQLException e) {
        SQLException next = e.getNextException();
        String detail = next != null && next != e ? " (" + next.getMessage() + ")" : "";
        return new IOException("Store '" + t.name + "': " + e.getMessage() + detail, e);
    }

    private static void rollbackQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.rollback();
        } catch (SQLException e) {
            // the connection is broken; it is dropped
        }
    }
}
