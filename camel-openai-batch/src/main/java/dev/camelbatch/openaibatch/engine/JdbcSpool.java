package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The appends of a {@link JdbcBatchStore}: group commit in lanes.
 * <p>
 * A producer joins the queue of its lane (by thread); the first producer that finds no write in progress writes
 * everything queued in the lane, its own request among it, and the producers arriving meanwhile go into the lane's
 * next write. Each lane has a connection of its own (its session commits with {@code synchronous_commit = off}
 * unless {@link SyncPolicy#ALWAYS}) and a slot: the open segments it fills (see {@link JdbcSegmentRows}), so that
 * lanes and nodes never wait for each other's row locks.
 * <p>
 * A write stores the requests of one group (endpoint, model) in one of two ways:
 * <ul>
 * <li><b>fast</b> (PostgreSQL): the lane knows its open segment of the group and the requests fit into it without
 * filling it: one statement updates the segment's counts (only if nobody changed it meanwhile) and inserts every
 * row, in autocommit: one round trip, committed when it returns;</li>
 * <li><b>in a transaction</b> otherwise: the open segment is locked (or adopted, or created), segments that fill
 * up are sealed and new ones opened, the rows go in with one statement (PostgreSQL: duplicates skipped by the
 * unique index, see {@link JdbcRequestRows}), and the counts are written once per segment.</li>
 * </ul>
 * A duplicate custom id fails only the call that holds it (all of its records, none stored): on PostgreSQL the
 * statement reports the rows it skipped, the transaction is rolled back and written again without the guilty
 * calls; elsewhere the ids are looked up first. Calls of one write that repeat each other's ids go into the next
 * write, where the database decides.
 */
final class JdbcSpool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcSpool.class);
    private static final int MAX_GROUP_ROWS = 20_000;
    private static final int MAX_ATTEMPTS = 6;
    private static final long GATHER_MAX_MICROS = Long.getLong("openai-batch.jdbcGatherMicros", 500);
    /** Slots in use by the stores of this JVM (per table prefix and name), so that two never share one. */
    private static final Set<String> SLOTS_IN_USE = ConcurrentHashMap.newKeySet();

    private final JdbcTables t;
    private final JdbcSegmentRows segments;
    private final JdbcRequestRows requests;
    private final JdbcConnections connections;
    private final Lane[] lanes;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong fastWrites = new AtomicLong();

    JdbcSpool(JdbcTables tables, JdbcSegmentRows segments, JdbcRequestRows requests, JdbcConnections connections,
              boolean asyncCommit, int laneCount) {
        this.t = tables;
        this.segments = segments;
        this.requests = requests;
        this.connections = connections;
        this.lanes = new Lane[Math.max(1, laneCount)];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new Lane(freeSlot(), connections.held("append lane " + i,
                    new SyncCommitSession(tables.postgres() && asyncCommit)));
        }
    }

    /** A slot number (1..32767) that no other store of this JVM uses for the name; random across nodes. */
    private int freeSlot() {
        while (true) {
            int slot = 1 + ThreadLocalRandom.current().nextInt(Short.MAX_VALUE);
            if (SLOTS_IN_USE.add(t.prefix + '|' + t.name + '|' + slot)) {
                return slot;
            }
        }
    }

    /** The slot in which the last segment of a document stays open (the first lane's). */
    int documentSlot() {
        return lanes[0].slot;
    }

    /** Writes so far: statements of the fast path and transactions (a group commit counts once). */
    long writes() {
        return writes.get();
    }

    /** Writes that took the fast path. */
    long fastWrites() {
        return fastWrites.get();
    }

    /** Calls of {@link #append} that succeeded. */
    long calls() {
        return calls.get();
    }

    /** Session of a lane's connection: spooled requests commit asynchronously (PostgreSQL) unless ALWAYS. */
    private record SyncCommitSession(boolean off) implements JdbcConnections.Session {
        @Override
        public void open(Connection c) throws SQLException {
            if (off) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET synchronous_commit TO OFF");
                }
            }
        }

        @Override
        public void reset(Connection c) throws SQLException {
            if (off) {
                try (Statement s = c.createStatement()) {
                    s.execute("RESET synchronous_commit");
                }
            }
        }
    }

    // ---------------------------------------------------------------- calls and lanes

    private static final class AppendCall {
        final String endpoint;
        final String model;
        final String group;
        final List<SpoolRecord> records;
        final SegmentLimits limits;
        final Thread thread = Thread.currentThread();
        /** Set last, after the outcome (the producer reads it without the lane's lock). */
        volatile boolean done;
        /** Set when the lead of the lane is handed to this call's producer. */
        volatile boolean lead;
        List<String> sealed;
        RuntimeException refused;
        IOException failure;

        AppendCall(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits) {
            this.endpoint = endpoint;
            this.model = model;
            this.group = endpoint + '\u0000' + model;
            this.records = records;
            this.limits = limits;
        }

        void refuse(RuntimeException e) {
            refused = e;
            done = true;
        }

        void fail(IOException e) {
            failure = e;
            done = true;
        }

        void succeed(List<String> sealedIds) {
            sealed = sealedIds;
            done = true;
        }
    }

    private static final class Lane {
        final int slot;
        final JdbcConnections.Held connection;
        /** Guards the queue and the fields below (held briefly: never while writing). */
        final ReentrantLock lock = new ReentrantLock();
        final ArrayDeque<AppendCall> pending = new ArrayDeque<>();
        /** Whether a producer leads the lane now (gathers and writes). */
        boolean writing;
        /** The leader while it gathers, woken when the queue reaches {@link #gatherUntil}. */
        Thread gatherer;
        int gatherUntil;
        /** Producers in the lane now (queued or being written). */
        final AtomicInteger inside = new AtomicInteger();
        /** The most producers seen in the lane at once lately (see {@link #gather}). */
        int peak;
        int peakSoFar;
        int writesSincePeak;
        /** How long the last write took. */
        long lastWriteNanos;
        /** The open segment of each group this lane fills (only the lane's leader reads and changes it). */
        final Map<String, JdbcOpenSegment> open = new HashMap<>();

        Lane(int slot, JdbcConnections.Held connection) {
            this.slot = slot;
            this.connection = connection;
        }
    }

    List<String> append(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits)
            throws IOException {
        if (records.size() > 1) {
            Set<String> within = new HashSet<>(records.size() * 2);
            for (int i = 0; i < records.size(); i++) {
                if (!within.add(records.get(i).customId())) {
                    throw new DuplicateCustomIdException(t.name, records.get(i).customId(),
                            "line " + (i + 1) + " repeats an earlier line");
                }
            }
        }
        AppendCall call = new AppendCall(endpoint, model, records, limits);
        Lane lane = lanes.length == 1 ? lanes[0]
                : lanes[(int) (Thread.currentThread().getId() % lanes.length)];
        lane.inside.incrementAndGet();
        try {
            boolean lead;
            lane.lock.lock();
            try {
                lane.pending.add(call);
                lane.peakSoFar = Math.max(lane.peakSoFar, lane.inside.get());
                if (lane.gatherer != null && lane.pending.size() >= lane.gatherUntil) {
                    LockSupport.unpark(lane.gatherer);
                }
                lead = !lane.writing;
                if (lead) {
                    lane.writing = true;
                }
            } finally {
                lane.lock.unlock();
            }
            while (true) {
                if (!lead) {
                    // woken once: when the call is written, or when the lead is handed to it
                    while (!call.done && !call.lead) {
                        LockSupport.park(this);
                    }
                    if (call.done) {
                        break;
                    }
                    call.lead = false;
                }
                // this producer writes for every producer waiting now (its own call among them)
                lead(lane);
                if (call.done) {
                    break;
                }
                lead = false;
            }
        } finally {
            lane.inside.decrementAndGet();
        }
        if (call.refused != null) {
            throw call.refused;
        }
        if (call.failure != null) {
            throw call.failure;
        }
        calls.incrementAndGet();
        return call.sealed;
    }

    /** One call of a group given at once ({@link #appendGroup}). */
    record GroupCall(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits) {
    }

    /**
     * Writes calls as one group, as if their producers had arrived together (for tests: a group commit with a
     * duplicate in it); the outcome of each call: the ids it sealed, or the exception it got.
     */
    List<Object> appendGroup(List<GroupCall> group) {
        Lane lane = lanes[0];
        List<AppendCall> group2 = new ArrayList<>(group.size());
        for (GroupCall g : group) {
            group2.add(new AppendCall(g.endpoint(), g.model(), g.records(), g.limits()));
        }
        lane.lock.lock();
        try {
            if (lane.writing || !lane.pending.isEmpty()) {
                throw new IllegalStateException("the lane is in use");
            }
            lane.writing = true;
            lane.pending.addAll(group2);
        } finally {
            lane.lock.unlock();
        }
        lead(lane);
        List<Object> out = new ArrayList<>(group2.size());
        for (AppendCall c : group2) {
            out.add(c.refused != null ? c.refused : c.failure != null ? c.failure : c.sealed);
        }
        return out;
    }

    /** Gathers, writes what is queued, wakes the producers written, and hands the lead to the next in the queue. */
    private void lead(Lane lane) {
        List<AppendCall> group;
        lane.lock.lock();
        try {
            gather(lane);
            group = drain(lane);
        } finally {
            lane.lock.unlock();
        }
        long started = System.nanoTime();
        try {
            write(lane, group);
        } finally {
            Thread self = Thread.currentThread();
            for (AppendCall c : group) {
                if (!c.done) {
                    c.fail(new IOException("Store '" + t.name + "': the append was not written"));
                }
                if (c.thread != self) {
                    LockSupport.unpark(c.thread);
                }
            }
            lane.lock.lock();
            try {
                lane.lastWriteNanos = System.nanoTime() - started;
                AppendCall next = lane.pending.peek();
                if (next == null) {
                    lane.writing = false;
                } else {
                    next.lead = true;
                    LockSupport.unpark(next.thread);
                }
            } finally {
                lane.lock.unlock();
            }
        }
    }

    /**
     * Before a write (with the lane's lock): when fewer producers are queued than were in the lane at once lately
     * (the others are on their way back with their next request), waits for them a little (at most half the last
     * write's time, and at most {@value #GATHER_MAX_MICROS} µs): one write of many rows costs the database much less
     * than two of half as many. A single producer never waits.
     */
    private static void gather(Lane lane) {
        if (++lane.writesSincePeak >= 256) {
            lane.peak = lane.peakSoFar;
            lane.peakSoFar = lane.inside.get();
            lane.writesSincePeak = 0;
        } else {
            lane.peak = Math.max(lane.peak, lane.peakSoFar);
        }
        int target = lane.peak;
        if (target <= 1 || lane.pending.size() >= target) {
            return;
        }
        long deadline = System.nanoTime() + Math.min(GATHER_MAX_MICROS * 1000L, lane.lastWriteNanos / 2);
        lane.gatherer = Thread.currentThread();
        lane.gatherUntil = target;
        try {
            long wait;
            while (lane.pending.size() < target && (wait = deadline - System.nanoTime()) > 0) {
                lane.lock.unlock();
                try {
                    LockSupport.parkNanos(lane, wait);
                } finally {
                    lane.lock.lock();
                }
            }
        } finally {
            lane.gatherer = null;
            lane.gatherUntil = 0;
        }
    }

    private static List<AppendCall> drain(Lane lane) {
        List<AppendCall> group = new ArrayList<>();
        int rows = 0;
        while (!lane.pending.isEmpty()
               && (group.isEmpty() || rows + lane.pending.peek().records.size() <= MAX_GROUP_ROWS)) {
            AppendCall c = lane.pending.poll();
            rows += c.records.size();
            group.add(c);
        }
        return group;
    }

    // ---------------------------------------------------------------- writing

    private void write(Lane lane, List<AppendCall> calls) {
        try {
            List<AppendCall> remaining = calls;
            while (!remaining.isEmpty()) {
                // a call that repeats an id of an earlier call of this write goes into the next round, where the
                // database decides (the earlier call may itself be refused)
                List<AppendCall> round = remaining;
                List<AppendCall> later = List.of();
                if (remaining.size() > 1) {
                    round = new ArrayList<>(remaining.size());
                    later = new ArrayList<>();
                    Set<String> ids = new HashSet<>();
                    for (AppendCall call : remaining) {
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
            for (AppendCall call : calls) {
                if (!call.done) {
                    call.fail(new IOException("Store '" + t.name + "': append failed: " + e, e));
                }
            }
            throw e;
        }
    }

    /** Writes calls without repeated ids among them: the groups that can take the fast path, then the rest. */
    private void writeRound(Lane lane, List<AppendCall> calls) {
        Map<String, List<AppendCall>> byGroup = new LinkedHashMap<>();
        for (AppendCall call : calls) {
            byGroup.computeIfAbsent(call.group, g -> new ArrayList<>()).add(call);
        }
        List<AppendCall> rest = new ArrayList<>();
        for (Map.Entry<String, List<AppendCall>> e : byGroup.entrySet()) {
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
    private static boolean fits(JdbcOpenSegment seg, List<AppendCall> calls) {
        int rows = 0;
        for (AppendCall call : calls) {
            rows += call.records.size();
        }
        if (rows > JdbcRequestRows.UNNEST_ROWS) {
            return false;
        }
        int count = seg.count;
        long bytes = seg.bytes;
        long tokens = seg.tokens;
        for (AppendCall call : calls) {
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
    private boolean writeFast(Lane lane, JdbcOpenSegment seg, String group, List<AppendCall> calls) {
        List<SpoolRecord> records;
        if (calls.size() == 1) {
            records = calls.get(0).records;
        } else {
            records = new ArrayList<>();
            for (AppendCall call : calls) {
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
            if (JdbcBatchStore.uniqueViolation(e)) {
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
            for (AppendCall call : calls) {
                call.fail(io);
            }
            return true;
        }
        seg.count = count;
        seg.bytes = bytes;
        seg.tokens = tokens;
        writes.incrementAndGet();
        fastWrites.incrementAndGet();
        for (AppendCall call : calls) {
            call.succeed(List.of());
        }
        return true;
    }

    /**
     * Writes the calls in one transaction on the lane's connection (written again without refused calls); when the
     * database refuses something of one of several calls, each call in a transaction of its own.
     */
    private void writeInTransaction(Lane lane, List<AppendCall> calls) {
        List<AppendCall> alone = writeTogether(lane, calls);
        if (alone != null) {
            for (AppendCall call : alone) {
                writeTogether(lane, List.of(call));
            }
        }
    }

    /** Writes the calls in one transaction; returns the calls to write one by one, or null. */
    private List<AppendCall> writeTogether(Lane lane, List<AppendCall> calls) {
        List<AppendCall> todo = calls;
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
                    List<AppendCall> left = new ArrayList<>(todo.size());
                    for (AppendCall call : todo) {
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
                for (Map.Entry<AppendCall, List<String>> e : out.sealed.entrySet()) {
                    e.getKey().succeed(e.getValue());
                }
                return null;
            } catch (SQLException e) {
                failure = e;
                rollbackQuietly(c);
                forget(lane, todo);
                if (attempt < MAX_ATTEMPTS && (JdbcBatchStore.transientFailure(e)
                                               || JdbcBatchStore.uniqueViolation(e))) {
                    // a deadlock, or a duplicate committed by another node after the look-up, or two writers that
                    // opened a segment in one slot at once: the next attempt sees what they committed
                    LOG.debug("Store '{}': append retried after {}", t.name, e.toString());
                    JdbcBatchStore.pause(attempt);
                    continue;
                }
                List<AppendCall> left = new ArrayList<>(todo.size());
                for (AppendCall call : todo) {
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
                for (AppendCall call : left) {
                    call.fail(io);
                }
                return null;
            } catch (IOException | RuntimeException e) {
                failure = e;
                rollbackQuietly(c);
                forget(lane, todo);
                IOException io = e instanceof IOException x ? x
                        : new IOException("Store '" + t.name + "': append failed: " + e, e);
                for (AppendCall call : todo) {
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
    private static void forget(Lane lane, List<AppendCall> calls) {
        for (AppendCall call : calls) {
            lane.open.remove(call.group);
        }
    }

    /** What a transaction did: the ids each call sealed, the open segment of each group after it, the refusals. */
    private static final class Outcome {
        final Map<AppendCall, List<String>> sealed = new IdentityHashMap<>();
        final Map<String, JdbcOpenSegment> open = new HashMap<>();
        final Map<AppendCall, RuntimeException> refusedAfterWrite = new IdentityHashMap<>();
    }

    /** Writes the calls in the transaction of {@code c}. */
    private Outcome writeCalls(Connection c, Lane lane, List<AppendCall> calls) throws SQLException, IOException {
        Outcome out = new Outcome();
        List<AppendCall> accepted = new ArrayList<>(calls.size());
        for (AppendCall call : calls) {
            if (!call.done) {
                // (refused by the look-up of an earlier attempt)
                accepted.add(call);
            }
        }
        if (!t.postgres()) {
            // the ids are looked up first (elsewhere the insert statement finds the duplicates)
            Set<String> ids = new HashSet<>();
            for (AppendCall call : accepted) {
                for (SpoolRecord r : call.records) {
                    ids.add(r.customId());
                }
            }
            Set<String> taken = requests.liveIds(c, ids);
            if (!taken.isEmpty()) {
                List<AppendCall> all = accepted;
                accepted = new ArrayList<>(all.size());
                for (AppendCall call : all) {
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
        Map<String, List<AppendCall>> byGroup = new TreeMap<>();
        for (AppendCall call : accepted) {
            byGroup.computeIfAbsent(call.group, g -> new ArrayList<>()).add(call);
        }
        long now = System.currentTimeMillis();
        List<JdbcRequestRows.Row> rows = new ArrayList<>();
        Map<JdbcRequestRows.Row, AppendCall> owners = t.postgres() ? new IdentityHashMap<>() : null;
        for (Map.Entry<String, List<AppendCall>> e : byGroup.entrySet()) {
            AppendCall first = e.getValue().get(0);
            JdbcOpenSegment seg = lockOpen(c, lane, e.getKey(), first.endpoint, first.model);
            for (AppendCall call : e.getValue()) {
                List<String> sealed = new ArrayList<>(1);
                for (SpoolRecord r : call.records) {
                    int lineBytes = r.line().length;
                    if (seg == null) {
                        seg = segments.createOpen(c, call.endpoint, call.model, call.limits, lane.slot, now);
                    } else if (seg.count > 0
                               && call.limits.wouldOverflow(seg.count, seg.bytes, seg.tokens, lineBytes, r.tokens())) {
                        segments.seal(c, seg, seg.sealReason(call.limits, lineBytes, r.tokens()), now);
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
                        segments.seal(c, seg, seg.sealReason(call.limits, 0, 0), now);
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
                for (AppendCall call : accepted) {
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
    private DuplicateCustomIdException duplicateIn(AppendCall call, Set<String> taken) {
        for (int i = 0; i < call.records.size(); i++) {
            String id = call.records.get(i).customId();
            if (taken.contains(id)) {
                return new DuplicateCustomIdException(t.name, id, call.records.size() > 1 ? "line " + (i + 1) : null);
            }
        }
        return null;
    }

    /** The lane's open segment of a group, locked: the one it knows, or its slot's, or an adopted one; or null. */
    private JdbcOpenSegment lockOpen(Connection c, Lane lane, String group, String endpoint, String model)
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

    /** Makes this store's open segments adoptable at once, and gives the lanes' connections back. */
    @Override
    public void close() {
        List<Integer> slots = new ArrayList<>(lanes.length);
        for (Lane lane : lanes) {
            slots.add(lane.slot);
        }
        try {
            Connection c = connections.borrow();
            Throwable failure = null;
            try {
                segments.release(c, slots);
            } catch (SQLException e) {
                failure = e;
                LOG.debug("Store '{}': cannot release the open segments: {}", t.name, e.toString());
            } finally {
                connections.release(c, failure);
            }
        } catch (SQLException e) {
            LOG.debug("Store '{}': cannot release the open segments: {}", t.name, e.toString());
        }
        for (Lane lane : lanes) {
            lane.connection.close();
            SLOTS_IN_USE.remove(t.prefix + '|' + t.name + '|' + lane.slot);
        }
    }
}
