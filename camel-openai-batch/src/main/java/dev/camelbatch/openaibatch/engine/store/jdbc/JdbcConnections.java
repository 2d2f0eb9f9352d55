package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.net.SocketException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The few connections a {@link JdbcBatchStore} works with, taken from the user's {@link DataSource} and kept: a
 * pooled data source (HikariCP, Agroal, ...) then hands out nothing per operation, and a plain one (the driver's
 * {@code PGSimpleDataSource}, which opens a new physical connection on every call) performs as well.
 * <ul>
 * <li>{@link #borrow()}/{@link #release}: a small set of idle connections for the store's transactions, at most
 * {@code maxIdle} kept;</li>
 * <li>{@link #held}: connections dedicated to one user (an append lane, the checkpoint writer) with a session
 * setting of their own, reset before they go back to the data source.</li>
 * </ul>
 * A connection idle for longer than {@link #validateAfterIdleMillis} is validated ({@link Connection#isValid}) before
 * it is used again, one that failed with a connection error is closed instead of kept, one older than
 * {@value #MAX_LIFETIME_MILLIS} ms is given back and replaced (so that a pool underneath can retire it), and one idle
 * for longer than {@value #IDLE_TIMEOUT_MILLIS} ms is given back.
 */
final class JdbcConnections implements AutoCloseable {

    static final long MAX_LIFETIME_MILLIS = 5 * 60_000;
    static final long IDLE_TIMEOUT_MILLIS = 60_000;
    private static final Logger LOG = LoggerFactory.getLogger(JdbcConnections.class);

    private final DataSource dataSource;
    private final String name;
    private final int maxIdle;
    private final ArrayDeque<Entry> idle = new ArrayDeque<>();
    /** When each borrowed connection was opened (for its lifetime when it comes back). */
    private final Map<Connection, Long> born = new IdentityHashMap<>();
    private final List<Held> helds = new CopyOnWriteArrayList<>();
    private volatile long validateAfterIdleMillis = 1_000;
    private volatile boolean closed;

    private record Entry(Connection connection, long bornNanos, long lastUsedNanos) {
    }

    JdbcConnections(DataSource dataSource, String name, int maxIdle) {
        this.dataSource = dataSource;
        this.name = name;
        this.maxIdle = maxIdle;
    }

    /** How long a connection may stay unused before it is validated again (0: before every use; for tests). */
    void validateAfterIdleMillis(long millis) {
        this.validateAfterIdleMillis = millis;
    }

    DataSource dataSource() {
        return dataSource;
    }

    int maxIdle() {
        return maxIdle;
    }

    // ---------------------------------------------------------------- shared connections

    /** A connection in autocommit mode; give it back with {@link #release}. */
    Connection borrow() throws SQLException {
        if (closed) {
            throw new SQLException("Store '" + name + "' is closed", "08003");
        }
        long now = System.nanoTime();
        while (true) {
            Entry e;
            synchronized (idle) {
                e = idle.pollFirst();
            }
            if (e == null) {
                break;
            }
            if (usable(e.connection, e.bornNanos, e.lastUsedNanos, now)) {
                synchronized (idle) {
                    born.put(e.connection, e.bornNanos);
                }
                return e.connection;
            }
            closeQuietly(e.connection);
        }
        sweep(now);
        Connection c = dataSource.getConnection();
        if (!c.getAutoCommit()) {
            c.setAutoCommit(true);
        }
        synchronized (idle) {
            born.put(c, now);
        }
        return c;
    }

    /**
     * Gives a connection back: kept for the next {@link #borrow} when it is in a good state, closed when it failed
     * with a connection error ({@code failure}), is older than its lifetime, or enough are kept.
     */
    void release(Connection c, Throwable failure) {
        Long bornNanos;
        synchronized (idle) {
            bornNanos = born.remove(c);
        }
        long now = System.nanoTime();
        if (closed || failure != null && broken(c, failure) || bornNanos == null
            || now - bornNanos > MAX_LIFETIME_MILLIS * 1_000_000L) {
            closeQuietly(c);
            return;
        }
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            closeQuietly(c);
            return;
        }
        boolean kept = false;
        synchronized (idle) {
            if (idle.size() < maxIdle) {
                idle.addFirst(new Entry(c, bornNanos, now));
                kept = true;
            }
        }
        if (!kept) {
            closeQuietly(c);
        }
        sweep(now);
    }

    /** Gives back the idle connections (and idle held ones) unused for longer than the idle timeout. */
    private void sweep(long now) {
        long limit = IDLE_TIMEOUT_MILLIS * 1_000_000L;
        synchronized (idle) {
            Entry last;
            while ((last = idle.peekLast()) != null && now - last.lastUsedNanos > limit) {
                idle.pollLast();
                closeQuietly(last.connection);
            }
        }
        for (Held h : helds) {
            h.releaseIfIdle(now, limit);
        }
    }

    private boolean usable(Connection c, long bornNanos, long lastUsedNanos, long now) {
        if (now - bornNanos > MAX_LIFETIME_MILLIS * 1_000_000L) {
            return false;
        }
        if (now - lastUsedNanos >= validateAfterIdleMillis * 1_000_000L) {
            try {
                return c.isValid(5);
            } catch (SQLException e) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- dedicated connections

    /** What a dedicated connection runs when it is opened, and before it goes back to the data source. */
    interface Session {
        void open(Connection c) throws SQLException;

        void reset(Connection c) throws SQLException;

        /**
         * With {@code on}: transactions that commit without waiting for the WAL flush ({@code synchronous_commit}
         * off, PostgreSQL only; the caller decides); without: nothing to set.
         */
        static Session asynchronousCommit(boolean on) {
            return new AsynchronousCommit(on);
        }
    }

    private record AsynchronousCommit(boolean on) implements Session {
        @Override
        public void open(Connection c) throws SQLException {
            if (on) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET synchronous_commit TO OFF");
                }
            }
        }

        @Override
        public void reset(Connection c) throws SQLException {
            if (on) {
                try (Statement s = c.createStatement()) {
                    s.execute("RESET synchronous_commit");
                }
            }
        }
    }

    /** A connection dedicated to one user at a time (the caller serialises its use). */
    Held held(String purpose, Session session) {
        Held h = new Held(purpose, session);
        helds.add(h);
        return h;
    }

    final class Held {
        private final String purpose;
        private final Session session;
        private Connection connection;
        private long bornNanos;
        private long lastUsedNanos;
        private boolean inUse;

        Held(String purpose, Session session) {
            this.purpose = purpose;
            this.session = session;
        }

        /** The connection, opened (and set up) when there is none or the last one is too old or broken. */
        synchronized Connection get() throws SQLException {
            if (closed) {
                throw new SQLException("Store '" + name + "' is closed", "08003");
            }
            long now = System.nanoTime();
            if (connection != null && !usable(connection, bornNanos, lastUsedNanos, now)) {
                giveBack();
            }
            if (connection == null) {
                Connection c = dataSource.getConnection();
                try {
                    if (!c.getAutoCommit()) {
                        c.setAutoCommit(true);
                    }
                    session.open(c);
                } catch (SQLException | RuntimeException e) {
                    closeQuietly(c);
                    throw e;
                }
                connection = c;
                bornNanos = now;
                LOG.debug("Store '{}': opened the {} connection", name, purpose);
            }
            inUse = true;
            return connection;
        }

        /** The use that began with {@link #get} is over; a connection error drops the connection. */
        synchronized void done(Throwable failure) {
            inUse = false;
            lastUsedNanos = System.nanoTime();
            if (connection != null && failure != null && broken(connection, failure)) {
                closeQuietly(connection);
                connection = null;
            }
        }

        synchronized void releaseIfIdle(long now, long limit) {
            if (!inUse && connection != null && now - lastUsedNanos > limit) {
                giveBack();
            }
        }

        /** Resets the session and gives the connection back to the data source. */
        synchronized void close() {
            if (connection != null) {
                giveBack();
            }
            helds.remove(this);
        }

        private void giveBack() {
            try {
                if (!connection.getAutoCommit()) {
                    connection.rollback();
                    connection.setAutoCommit(true);
                }
                session.reset(connection);
            } catch (SQLException e) {
                LOG.debug("Store '{}': resetting the {} connection: {}", name, purpose, e.toString());
            }
            closeQuietly(connection);
            connection = null;
        }
    }

    // ---------------------------------------------------------------- failures

    /**
     * Whether a failure means the connection cannot be used again: a connection error (SQL state class 08), the
     * server shutting down or gone (57P), an I/O error underneath, or a connection that reports itself closed or
     * invalid.
     */
    static boolean broken(Connection c, Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null
                && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P"))) {
                return true;
            }
            if (t instanceof SocketException) {
                return true;
            }
        }
        try {
            return c.isClosed() || !c.isValid(2);
        } catch (SQLException e) {
            return true;
        }
    }

    static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // broken already; the pool underneath (if any) discards it
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Held h : helds) {
            h.close();
        }
        synchronized (idle) {
            for (Entry e : idle) {
                closeQuietly(e.connection);
            }
            idle.clear();
        }
    }
}
