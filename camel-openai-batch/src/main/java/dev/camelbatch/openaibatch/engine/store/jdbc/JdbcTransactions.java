package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the JDBC store runs its work on a connection of its own ({@link JdbcConnections}): in a transaction (optionally
 * committed with {@code synchronous_commit = off} on PostgreSQL), in autocommit, or as a read in a transaction of its
 * own; retried on deadlocks, serialization failures and lock timeouts (not a read, which may feed a consumer as it
 * goes); an exception of the work rolls it back, and an {@link SQLException} becomes an {@link IOException} naming
 * the store.
 */
final class JdbcTransactions {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcBatchStore.class);
    /** Attempts of a transaction that fails transiently (and of a group write, {@link JdbcGroupWriter}). */
    static final int MAX_ATTEMPTS = 6;

    /** Work on a connection. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException, IOException;
    }

    private enum Mode {
        /** One transaction, committed synchronously. */
        TX,
        /** One transaction, committed without waiting for the WAL flush (PostgreSQL). */
        TX_ASYNC,
        /** Autocommit. */
        AUTOCOMMIT,
        /** One transaction, never retried. */
        READ
    }

    private final JdbcConnections connections;
    private final String name;
    private final JdbcTables tables;

    /** @param tables tells, once the store started, whether the database is PostgreSQL */
    JdbcTransactions(JdbcConnections connections, String name, JdbcTables tables) {
        this.connections = connections;
        this.name = name;
        this.tables = tables;
    }

    /** Work in one transaction; {@code async}: committed with {@code synchronous_commit = off} (PostgreSQL). */
    <T> T inTx(boolean async, Work<T> work) throws IOException {
        return run(async ? Mode.TX_ASYNC : Mode.TX, work);
    }

    /** Work outside of a transaction (autocommit), retried like {@link #inTx}. */
    <T> T autoCommitted(Work<T> work) throws IOException {
        return run(Mode.AUTOCOMMIT, work);
    }

    /**
     * A read in a transaction of its own, never retried (it may feed a consumer as it goes): PostgreSQL streams a
     * result with a fetch size (a cursor) only outside of autocommit.
     */
    <T> T readInTx(Work<T> work) throws IOException {
        return run(Mode.READ, work);
    }

    private <T> T run(Mode mode, Work<T> work) throws IOException {
        boolean tx = mode != Mode.AUTOCOMMIT;
        for (int attempt = 1;; attempt++) {
            Connection c;
            try {
                c = connections.borrow();
            } catch (SQLException e) {
                throw failure(e);
            }
            Throwable failure = null;
            try {
                if (tx) {
                    c.setAutoCommit(false);
                }
                if (mode == Mode.TX_ASYNC && tables.postgres()) {
                    try (Statement s = c.createStatement()) {
                        s.execute("SET LOCAL synchronous_commit TO OFF");
                    }
                }
                T result = work.run(c);
                if (tx) {
                    c.commit();
                }
                return result;
            } catch (SQLException e) {
                failure = e;
                if (tx) {
                    rollbackQuietly(c);
                }
                if (mode != Mode.READ && attempt < MAX_ATTEMPTS && transientFailure(e)) {
                    LOG.debug("Store '{}': work retried after {}", name, e.toString());
                    connections.release(c, failure);
                    c = null;
                    pause(attempt);
                    continue;
                }
                throw failure(e);
            } catch (IOException | RuntimeException | Error e) {
                failure = e;
                if (tx) {
                    rollbackQuietly(c);
                }
                throw e;
            } finally {
                if (c != null) {
                    connections.release(c, failure);
                }
            }
        }
    }

    /** An {@link SQLException} (and its next exception) as an {@link IOException} naming the store. */
    IOException failure(SQLException e) {
        SQLException next = e.getNextException();
        String detail = next != null && next != e ? " (" + next.getMessage() + ")" : "";
        return new IOException("Store '" + name + "': " + e.getMessage() + detail, e);
    }

    /** Serialization failure, deadlock (PostgreSQL, H2), lock timeout and concurrent update (H2). */
    static boolean transientFailure(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                String st = s.getSQLState();
                if (st.equals("40001") || st.equals("40P01") || st.equals("HYT00") || st.equals("90131")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A unique index refused a row (23505, also as the next exception of a batch). */
    static boolean uniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                if ("23505".equals(s.getSQLState())) {
                    return true;
                }
                SQLException next = s.getNextException();
                if (next != null && next != s && "23505".equals(next.getSQLState())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Waits a little before attempt {@code attempt + 1}. */
    static void pause(int attempt) {
        try {
            Thread.sleep(Math.min(500, 10L << attempt) + (long) (Math.random() * 20));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            // the connection is broken; it is dropped
        }
    }
}
