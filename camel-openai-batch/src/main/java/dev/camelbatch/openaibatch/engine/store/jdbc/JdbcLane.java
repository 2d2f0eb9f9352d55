package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An append lane of a {@link JdbcSpool}: its queue of producers, its leader (the producer writing for the others),
 * its connection and its slot, with the open segment it fills in each group.
 */
final class JdbcLane {
    final int slot;
    final JdbcConnections.Held connection;
    /** Guards the queue and the fields below (held briefly: never while writing). */
    final ReentrantLock lock = new ReentrantLock();
    final ArrayDeque<JdbcAppendCall> pending = new ArrayDeque<>();
    /** Whether a producer leads the lane now (gathers and writes). */
    boolean writing;
    /** The leader while it gathers, woken when the queue reaches {@link #gatherUntil}. */
    Thread gatherer;
    int gatherUntil;
    /** Producers in the lane now (queued or being written). */
    final AtomicInteger inside = new AtomicInteger();
    /** The most producers seen in the lane at once lately (see {@link JdbcSpool}). */
    int peak;
    int peakSoFar;
    int writesSincePeak;
    /** How long the last write took. */
    long lastWriteNanos;
    /** The open segment of each group this lane fills (only the lane's leader reads and changes it). */
    final Map<String, JdbcOpenSegment> open = new HashMap<>();

    JdbcLane(int slot, JdbcConnections.Held connection) {
        this.slot = slot;
        this.connection = connection;
    }
}
