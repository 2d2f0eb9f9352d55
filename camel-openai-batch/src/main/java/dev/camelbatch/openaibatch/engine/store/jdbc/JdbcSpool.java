package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The appends of a {@link JdbcBatchStore}: group commit in lanes.
 * <p>
 * A producer joins the queue of its lane (by thread); the first producer that finds no write in progress leads: it
 * gathers (waits a little when fewer producers are queued than were in the lane lately), writes everything queued,
 * its own call among it ({@link JdbcGroupWriter}), wakes the producers written and hands the lead to the next one
 * queued. Each lane has a connection of its own (its session commits with {@code synchronous_commit = off} unless
 * {@link SyncPolicy#ALWAYS}) and a slot: the open segments it fills (see {@link JdbcSegmentRows}), so that lanes
 * and nodes never wait for each other's row locks.
 */
final class JdbcSpool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcSpool.class);
    private static final int MAX_GROUP_ROWS = 20_000;
    private static final long GATHER_MAX_MICROS = Long.getLong("openai-batch.jdbcGatherMicros", 500);
    /** Slots in use by the stores of this JVM (per table prefix and name), so that two never share one. */
    private static final Set<String> SLOTS_IN_USE = ConcurrentHashMap.newKeySet();

    private final JdbcTables t;
    private final JdbcSegmentRows segments;
    private final JdbcConnections connections;
    private final JdbcGroupWriter writer;
    private final JdbcLane[] lanes;
    private final AtomicLong calls = new AtomicLong();

    JdbcSpool(JdbcTables tables, JdbcSegmentRows segments, JdbcRequestRows requests, JdbcConnections connections,
              boolean asyncCommit, int laneCount) {
        this.t = tables;
        this.segments = segments;
        this.writer = new JdbcGroupWriter(tables, segments, requests);
        this.connections = connections;
        this.lanes = new JdbcLane[Math.max(1, laneCount)];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new JdbcLane(freeSlot(), connections.held("append lane " + i,
                    JdbcConnections.Session.asynchronousCommit(tables.postgres() && asyncCommit)));
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
        return writer.writes.get();
    }

    /** Writes that took the fast path. */
    long fastWrites() {
        return writer.fastWrites.get();
    }

    /** Calls of {@link #append} that succeeded. */
    long calls() {
        return calls.get();
    }

    // ---------------------------------------------------------------- calls and lanes

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
        JdbcAppendCall call = new JdbcAppendCall(endpoint, model, records, limits);
        JdbcLane lane = lanes.length == 1 ? lanes[0]
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
        JdbcLane lane = lanes[0];
        List<JdbcAppendCall> group2 = new ArrayList<>(group.size());
        for (GroupCall g : group) {
            group2.add(new JdbcAppendCall(g.endpoint(), g.model(), g.records(), g.limits()));
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
        for (JdbcAppendCall c : group2) {
            out.add(c.refused != null ? c.refused : c.failure != null ? c.failure : c.sealed);
        }
        return out;
    }

    /** Gathers, writes what is queued, wakes the producers written, and hands the lead to the next in the queue. */
    private void lead(JdbcLane lane) {
        List<JdbcAppendCall> group;
        lane.lock.lock();
        try {
            gather(lane);
            group = drain(lane);
        } finally {
            lane.lock.unlock();
        }
        long started = System.nanoTime();
        try {
            writer.write(lane, group);
        } finally {
            Thread self = Thread.currentThread();
            for (JdbcAppendCall c : group) {
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
                JdbcAppendCall next = lane.pending.peek();
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
    private static void gather(JdbcLane lane) {
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

    private static List<JdbcAppendCall> drain(JdbcLane lane) {
        List<JdbcAppendCall> group = new ArrayList<>();
        int rows = 0;
        while (!lane.pending.isEmpty()
               && (group.isEmpty() || rows + lane.pending.peek().records.size() <= MAX_GROUP_ROWS)) {
            JdbcAppendCall c = lane.pending.poll();
            rows += c.records.size();
            group.add(c);
        }
        return group;
    }

    /** Makes this store's open segments adoptable at once, and gives the lanes' connections back. */
    @Override
    public void close() {
        List<Integer> slots = new ArrayList<>(lanes.length);
        for (JdbcLane lane : lanes) {
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
        for (JdbcLane lane : lanes) {
            lane.connection.close();
            SLOTS_IN_USE.remove(t.prefix + '|' + t.name + '|' + lane.slot);
        }
    }
}
