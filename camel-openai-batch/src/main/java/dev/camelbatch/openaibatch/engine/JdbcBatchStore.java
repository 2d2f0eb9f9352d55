package dev.camelbatch.openaibatch.engine;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store in a relational database shared by several nodes: PostgreSQL (the target) or H2 (embedded, for tests and
 * small setups), through plain JDBC and a {@link DataSource}, pooled or not: the store keeps the few connections it
 * works with itself ({@link JdbcConnections}: at most {@value #IDLE_CONNECTIONS} idle ones, one per append lane and
 * one for emission checkpoints), validated after a pause and replaced when broken.
 * <p>
 * Three tables, named with a prefix (default {@value #DEFAULT_TABLE_PREFIX}), created on {@link #start()} when
 * missing (the same DDL ships as {@code openai-batch-schema-postgresql.sql} for those who manage schemas):
 * <ul>
 * <li>{@code segments}: one row per live segment: status, counts, the full state as JSON, the emission checkpoint
 * and the lease ({@code lease_owner}, {@code lease_until} in the database's clock). A segment with
 * {@code open_slot} set is open: each writer (append lane) of each node fills an open segment of its own slot, so
 * that nodes do not queue behind one row lock ({@link JdbcSegmentRows}).</li>
 * <li>{@code requests}: one row per request line (and its carried headers), numbered within its segment. The custom
 * id of a request that is spooled or in flight is also in {@code live_id}, unique per name: the unique index finds
 * duplicates (on PostgreSQL in the insert statement itself, elsewhere after a look-up).</li>
 * <li>{@code history}: compact records of finished segments.</li>
 * </ul>
 * Appends are group-committed ({@link JdbcSpool}): concurrent producers of a lane share one write; on PostgreSQL a
 * write that fits into the lane's open segment is one statement in autocommit (one round trip). A JSONL document
 * streams into one transaction of its own ({@link JdbcDocumentAppender}, {@code COPY} on PostgreSQL) and becomes
 * visible at its commit. With {@link SyncPolicy#ALWAYS} a request is on the database's disk when {@code append}
 * returns; otherwise (PostgreSQL) the spool commits with {@code synchronous_commit = off}: the request is in the
 * database server at once and on its disk within a fraction of a second, the analogue of the file store's
 * {@code INTERVAL}. State transitions always commit synchronously; emission checkpoints asynchronously, one
 * statement each on a connection of their own (they must survive the death of a node, as the file store's do, and
 * be cheap enough for one per line).
 * <p>
 * Leases: a segment past OPEN is driven by the one node that holds its lease ({@link #tryClaim}, {@code SELECT …
 * FOR UPDATE SKIP LOCKED}); the holder renews its leases while it lives; a lease that is not renewed expires and
 * another node claims the segment and carries on from its recorded state and checkpoint. Every change that a
 * holder makes to a segment ({@link #update}, {@link #checkpoint}, {@link #complete}) is fenced: it is refused
 * with a {@link LeaseLostException} once another node holds the lease.
 */
public class JdbcBatchStore implements BatchStore {

    public static final String DEFAULT_TABLE_PREFIX = "openai_batch_";
    /** Rows per JDBC batch and per cursor fetch. */
    static final int BATCH_ROWS = JdbcRequestRows.BATCH_ROWS;
    /** Idle connections the store keeps for its transactions. */
    static final int IDLE_CONNECTIONS = 3;
    /**
     * Append lanes (group commits that write at the same time, each into open segments of its own): the system
     * property {@code openai-batch.jdbcAppendLanes}, default 1.
     */
    static final int DEFAULT_APPEND_LANES = Integer.getInteger("openai-batch.jdbcAppendLanes", 1);
    /**
     * Write a segment's emission checkpoint for every this many lines (and whenever the segment is read or changed):
     * the system property {@code openai-batch.jdbcCheckpointEvery}, default 1 (every line; see
     * {@link JdbcCheckpoints}).
     */
    static final int CHECKPOINT_EVERY = Integer.getInteger("openai-batch.jdbcCheckpointEvery", 1);
    private static final int MAX_ATTEMPTS = 6;
    private static final int HISTORY_KEEP = 10_000;
    private static final int HISTORY_PRUNE_EVERY = 100;
    /**
     * The database's clock in epoch milliseconds (leases never compare the clocks of two nodes); package-private for
     * the store's tests, which read and move a lease's recorded expiry with it.
     */
    static final String NOW_MS = JdbcTables.NOW_MS;
    private static final Pattern PREFIX = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*\\.)?[A-Za-z_][A-Za-z0-9_]*");
    private static final Logger LOG = LoggerFactory.getLogger(JdbcBatchStore.class);
    private static final String SEG_COLS = "id, state, status, request_count, bytes, tokens, emitted_output,"
                                           + " emitted_errors, emitted_synthetic, lease_owner, lease_until - "
                                           + NOW_MS;

    private final DataSource dataSource;
    private final String name;
    private final String prefix;
    private final SyncPolicy syncPolicy;
    private final Path workDirectory;
    private final JdbcTables tables;
    private final String segmentsTable;
    private final String requestsTable;
    private final String historyTable;
    private final JdbcConnections connections;
    private final JdbcSegmentRows segmentRows;
    private final JdbcRequestRows requestRows;
    private boolean createSchema = true;
    private int appendLanes = DEFAULT_APPEND_LANES;
    private int checkpointEvery = CHECKPOINT_EVERY;

    private volatile boolean started;
    private volatile boolean closed;
    private volatile JdbcSpool spool;
    /** The emission checkpoints (one statement each, committed asynchronously, on a connection of their own). */
    private volatile JdbcCheckpoints checkpoints;
    /** The owner this store claims leases for (the node id of its engine); fences changes once set. */
    private volatile String leaseOwner;
    /** What the last reads saw of other owners' leases: claims of segments leased elsewhere skip the database. */
    private final Map<String, LeaseView> leaseCache = new ConcurrentHashMap<>();
    private final AtomicLong completions = new AtomicLong();

    /**
     * @param dataSource    where the tables are (pooled or not: the store keeps the connections it works with)
     * @param name          the endpoint name: every row of this store carries it, many names share the tables
     * @param tablePrefix   prefix of the table names, optionally schema-qualified ({@code batch.openai_})
     * @param syncPolicy    {@link SyncPolicy#ALWAYS}: spooled requests commit synchronously; otherwise
     *                      asynchronously on PostgreSQL (see the class comment)
     * @param mapper        for the segment state (JSON)
     * @param workDirectory where {@link #uploadFile} writes the JSONL files to upload (deleted on release)
     */
    public JdbcBatchStore(DataSource dataSource, String name, String tablePrefix, SyncPolicy syncPolicy,
                          ObjectMapper mapper, Path workDirectory) {
        if (dataSource == null) {
            throw new IllegalArgumentException("A DataSource is required");
        }
        String p = tablePrefix == null ? DEFAULT_TABLE_PREFIX : tablePrefix;
        if (!p.isEmpty() && !PREFIX.matcher(p).matches()) {
            throw new IllegalArgumentException("tablePrefix must be letters, digits and underscores (optionally"
                                               + " schema.prefix), was '" + tablePrefix + "'");
        }
        this.dataSource = dataSource;
        this.name = name;
        this.prefix = p;
        this.syncPolicy = syncPolicy != null ? syncPolicy : SyncPolicy.INTERVAL;
        this.workDirectory = workDirectory;
        this.tables = new JdbcTables(name, p, mapper);
        this.segmentsTable = tables.segments;
        this.requestsTable = tables.requests;
        this.historyTable = tables.history;
        this.connections = new JdbcConnections(dataSource, name, IDLE_CONNECTIONS);
        this.segmentRows = new JdbcSegmentRows(tables);
        this.requestRows = new JdbcRequestRows(tables);
    }

    /** Whether {@link #start()} creates missing tables (default true); false when the schema is managed elsewhere. */
    public JdbcBatchStore createSchema(boolean create) {
        this.createSchema = create;
        return this;
    }

    /**
     * How many group commits of this store write at the same time, each into open segments of its own (producers
     * are spread over them by thread); set before {@link #start()}.
     */
    public JdbcBatchStore appendLanes(int lanes) {
        if (lanes < 1) {
            throw new IllegalArgumentException("appendLanes must be >= 1, was " + lanes);
        }
        this.appendLanes = lanes;
        return this;
    }

    /**
     * Write a segment's emission checkpoint for every this many lines instead of every line (and whenever the
     * segment is read or changed): emission costs a statement per {@code every} lines, and a node that dies delivers
     * up to {@code every} lines again (see {@link JdbcCheckpoints}); set before {@link #start()}.
     */
    public JdbcBatchStore checkpointEvery(int every) {
        if (every < 1) {
            throw new IllegalArgumentException("checkpointEvery must be >= 1, was " + every);
        }
        this.checkpointEvery = every;
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    public String tablePrefix() {
        return prefix;
    }

    /** Whether the database is PostgreSQL (known after {@link #start()}). */
    public boolean isPostgres() {
        return tables.postgres();
    }

    /** Writes that appended requests: transactions and single statements (a group commit counts once). */
    public long appendTransactions() {
        JdbcSpool s = spool;
        return s == null ? 0 : s.writes();
    }

    /** Calls of {@link #append} that succeeded. */
    public long appendCalls() {
        JdbcSpool s = spool;
        return s == null ? 0 : s.calls();
    }

    /** Appends that took the one-statement path (PostgreSQL), for tests and diagnostics. */
    long fastAppends() {
        JdbcSpool s = spool;
        return s == null ? 0 : s.fastWrites();
    }

    /** Appends calls as one group commit (tests); see {@link JdbcSpool#appendGroup}. */
    List<Object> appendGroup(List<JdbcSpool.GroupCall> group) {
        ensureOpen();
        return spool.appendGroup(group);
    }

    /** The store's connections (tests: validation). */
    JdbcConnections connections() {
        return connections;
    }

    // ---------------------------------------------------------------- schema

    /** The DDL for a table prefix: tables and indexes, each statement idempotent ({@code IF NOT EXISTS}). */
    public static List<String> ddl(String tablePrefix) {
        String p = tablePrefix == null ? DEFAULT_TABLE_PREFIX : tablePrefix;
        // constraint and index names without the schema (PostgreSQL creates them in the table's schema)
        String n = p.substring(p.indexOf('.') + 1);
        return List.of(
                "CREATE TABLE IF NOT EXISTS " + p + "segments (\n"
                + "    id                VARCHAR(64)  NOT NULL,\n"
                + "    name              VARCHAR(512) NOT NULL,\n"
                + "    endpoint          VARCHAR(128) NOT NULL,\n"
                + "    model             VARCHAR(" + RequestLines.MAX_MODEL_LENGTH + ") NOT NULL,\n"
                + "    status            VARCHAR(16)  NOT NULL,\n"
                + "    open_slot         SMALLINT,\n"
                + "    attempt           INT          NOT NULL,\n"
                + "    parent_id         VARCHAR(64),\n"
                + "    request_count     INT          NOT NULL,\n"
                + "    bytes             BIGINT       NOT NULL,\n"
                + "    tokens            BIGINT       NOT NULL,\n"
                + "    created_at        BIGINT       NOT NULL,\n"
                + "    updated_at        BIGINT       NOT NULL,\n"
                + "    emitted_output    BIGINT       DEFAULT 0 NOT NULL,\n"
                + "    emitted_errors    BIGINT       DEFAULT 0 NOT NULL,\n"
                + "    emitted_synthetic BIGINT       DEFAULT 0 NOT NULL,\n"
                + "    lease_owner       VARCHAR(255),\n"
                + "    lease_until       BIGINT,\n"
                + "    state             TEXT         NOT NULL,\n"
                + "    CONSTRAINT " + n + "segments_pk PRIMARY KEY (id),\n"
                + "    CONSTRAINT " + n + "segments_open UNIQUE (name, endpoint, model, open_slot)\n"
                + ")",
                "CREATE INDEX IF NOT EXISTS " + n + "segments_name ON " + p + "segments (name, status)",
                "CREATE TABLE IF NOT EXISTS " + p + "requests (\n"
                + "    segment_id VARCHAR(64)  NOT NULL,\n"
                + "    seq        INT          NOT NULL,\n"
                + "    name       VARCHAR(512) NOT NULL,\n"
                + "    custom_id  VARCHAR(512) NOT NULL,\n"
                + "    live_id    VARCHAR(512),\n"
                + "    tokens     INT          NOT NULL,\n"
                + "    line       BYTEA        NOT NULL,\n"
                + "    carried    BYTEA,\n"
                + "    CONSTRAINT " + n + "requests_pk PRIMARY KEY (segment_id, seq),\n"
                + "    CONSTRAINT " + n + "requests_live UNIQUE (name, live_id)\n"
                + ")",
                "CREATE TABLE IF NOT EXISTS " + p + "history (\n"
                + "    seq         BIGINT GENERATED BY DEFAULT AS IDENTITY,\n"
                + "    name        VARCHAR(512) NOT NULL,\n"
                + "    segment_id  VARCHAR(64)  NOT NULL,\n"
                + "    finished_at BIGINT       NOT NULL,\n"
                + "    state       TEXT         NOT NULL,\n"
                + "    CONSTRAINT " + n + "history_pk PRIMARY KEY (seq)\n"
                + ")",
                "CREATE INDEX IF NOT EXISTS " + n + "history_name ON " + p + "history (name, seq)");
    }

    /** The DDL as a script (statements ended by {@code ;}), as shipped in {@code openai-batch-schema-postgresql.sql}. */
    public static String ddlScript(String tablePrefix) {
        StringBuilder sb = new StringBuilder();
        for (String s : ddl(tablePrefix)) {
            sb.append(s).append(";\n\n");
        }
        return sb.toString();
    }

    /** Connects, creates the tables when missing (unless disabled) and checks that they are usable. */
    public void start() throws IOException {
        boolean postgres;
        try (Connection c = dataSource.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            postgres = md.getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
            tables.postgres(postgres);
            if (!tablesExist(c)) {
                if (!createSchema) {
                    throw new IOException("The tables " + segmentsTable + ", " + requestsTable + " and "
                                          + historyTable + " do not exist; create them with"
                                          + " openai-batch-schema-postgresql.sql or let the store create them");
                }
                createTables(c);
            }
            if (!tablesExist(c)) {
                throw new IOException("The tables " + segmentsTable + " etc. cannot be read after creating them");
            }
            LOG.info("Store '{}': {} {} tables {}*{}; keeps up to {} connections of its own from {}", name,
                    md.getDatabaseProductName(), md.getDatabaseProductVersion(), prefix,
                    postgres && syncPolicy != SyncPolicy.ALWAYS ? " (spool commits with synchronous_commit=off)"
                            : "", IDLE_CONNECTIONS + appendLanes + 1, dataSource.getClass().getName());
        } catch (SQLException e) {
            throw new IOException("Store '" + name + "': cannot use the database: " + e.getMessage(), e);
        }
        spool = new JdbcSpool(tables, segmentRows, requestRows, connections, syncPolicy != SyncPolicy.ALWAYS,
                appendLanes);
        checkpoints = new JdbcCheckpoints(tables, connections.held("checkpoint", new AsyncSession(postgres)),
                checkpointEvery);
        started = true;
    }

    /** A session whose transactions commit without waiting for the WAL flush (PostgreSQL). */
    private record AsyncSession(boolean postgres) implements JdbcConnections.Session {
        @Override
        public void open(Connection c) throws SQLException {
            if (postgres) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET synchronous_commit TO OFF");
                }
            }
        }

        @Override
        public void reset(Connection c) throws SQLException {
            if (postgres) {
                try (Statement s = c.createStatement()) {
                    s.execute("RESET synchronous_commit");
                }
            }
        }
    }


    private boolean tablesExist(Connection c) {
        boolean auto = autoCommit(c);
        try (Statement s = c.createStatement()) {
            if (!auto) {
                c.setAutoCommit(true);
            }
            s.executeQuery("SELECT id FROM " + segmentsTable + " WHERE 1 = 0").close();
            s.executeQuery("SELECT seq FROM " + requestsTable + " WHERE 1 = 0").close();
            s.executeQuery("SELECT seq FROM " + historyTable + " WHERE 1 = 0").close();
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    private void createTables(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            if (tables.postgres()) {
                // nodes starting together: concurrent CREATE TABLE IF NOT EXISTS can collide in the catalog
                s.execute("SELECT pg_advisory_xact_lock(" + (("camel-openai-batch:" + prefix).hashCode()) + ")");
            }
            for (String ddl : ddl(prefix)) {
                s.execute(ddl);
            }
            c.commit();
            LOG.info("Store '{}': created the tables {}segments, {}requests and {}history", name, prefix, prefix,
                    prefix);
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }


    // ---------------------------------------------------------------- transactions

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException, IOException;
    }

    /**
     * Runs work in one transaction, retried on deadlocks, serialization failures and lock timeouts; an exception of
     * the work rolls it back.
     */
    private <T> T inTx(boolean async, Work<T> work) throws IOException {
        for (int attempt = 1;; attempt++) {
            Connection c;
            try {
                c = connections.borrow();
            } catch (SQLException e) {
                throw sqlFailure(e);
            }
            Throwable failure = null;
            try {
                c.setAutoCommit(false);
                if (async) {
                    asyncCommit(c);
                }
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException e) {
                failure = e;
                rollbackQuietly(c);
                if (attempt < MAX_ATTEMPTS && transientFailure(e)) {
                    LOG.debug("Store '{}': transaction retried after {}", name, e.toString());
                    connections.release(c, failure);
                    c = null;
                    pause(attempt);
                    continue;
                }
                throw sqlFailure(e);
            } catch (IOException | RuntimeException | Error e) {
                failure = e;
                rollbackQuietly(c);
                throw e;
            } finally {
                if (c != null) {
                    connections.release(c, failure);
                }
            }
        }
    }

    /** Work outside of a transaction (autocommit), retried like {@link #inTx}. */
    private <T> T autoCommitted(Work<T> work) throws IOException {
        for (int attempt = 1;; attempt++) {
            Connection c;
            try {
                c = connections.borrow();
            } catch (SQLException e) {
                throw sqlFailure(e);
            }
            Throwable failure = null;
            try {
                return work.run(c);
            } catch (SQLException e) {
                failure = e;
                if (attempt < MAX_ATTEMPTS && transientFailure(e)) {
                    connections.release(c, failure);
                    c = null;
                    pause(attempt);
                    continue;
                }
                throw sqlFailure(e);
            } catch (IOException | RuntimeException | Error e) {
                failure = e;
                throw e;
            } finally {
                if (c != null) {
                    connections.release(c, failure);
                }
            }
        }
    }

    private void asyncCommit(Connection c) throws SQLException {
        if (tables.postgres()) {
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL synchronous_commit TO OFF");
            }
        }
    }

    private boolean asyncSpool() {
        return tables.postgres() && syncPolicy != SyncPolicy.ALWAYS;
    }

    static boolean transientFailure(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                String st = s.getSQLState();
                // serialization failure, deadlock (PostgreSQL, H2), lock timeout and concurrent update (H2)
                if (st.equals("40001") || st.equals("40P01") || st.equals("HYT00") || st.equals("90131")) {
                    return true;
                }
            }
        }
        return false;
    }

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

    private IOException sqlFailure(SQLException e) {
        SQLException next = e.getNextException();
        String detail = next != null && next != e ? " (" + next.getMessage() + ")" : "";
        return new IOException("Store '" + name + "': " + e.getMessage() + detail, e);
    }

    static void pause(int attempt) {
        try {
            Thread.sleep(Math.min(500, 10L << attempt) + (long) (Math.random() * 20));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean autoCommit(Connection c) {
        try {
            return c.getAutoCommit();
        } catch (SQLException e) {
            return true;
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            // the connection is broken; it is dropped
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("Store '" + name + "' is closed");
        }
        if (!started) {
            throw new IllegalStateException("Store '" + name + "' is not started");
        }
    }

    // ---------------------------------------------------------------- append and documents

    @Override
    public List<String> append(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits)
            throws IOException {
        if (records.isEmpty()) {
            return List.of();
        }
        ensureOpen();
        return spool.append(endpoint, model, records, limits);
    }

    @Override
    public DocumentAppender beginDocument(String endpoint, SegmentLimits limits) throws IOException {
        ensureOpen();
        try {
            return new JdbcDocumentAppender(tables, segmentRows, requestRows, connections, asyncSpool(),
                    spool.documentSlot(), endpoint, limits);
        } catch (SQLException e) {
            throw sqlFailure(e);
        }
    }

    // ---------------------------------------------------------------- reads

    @Override
    public boolean containsCustomId(String customId) {
        ensureOpen();
        try {
            return autoCommitted(c -> !requestRows.liveIds(c, List.of(customId)).isEmpty());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<SegmentInfo> segments() {
        ensureOpen();
        try {
            flushCheckpoints();
            return autoCommitted(c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT " + SEG_COLS + " FROM " + segmentsTable
                                                               + " WHERE name = ? AND status <> 'STAGING'"
                                                               + " ORDER BY created_at, id")) {
                    ps.setString(1, name);
                    List<SegmentInfo> list = new ArrayList<>();
                    Set<String> seen = new HashSet<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            SegmentInfo s = toInfo(rs);
                            list.add(s);
                            seen.add(s.getId());
                        }
                    }
                    leaseCache.keySet().retainAll(seen);
                    return list;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public SegmentInfo segment(String id) {
        ensureOpen();
        try {
            flushCheckpoints();
            return autoCommitted(c -> readSegment(c, id, false));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private SegmentInfo readSegment(Connection c, String id, boolean forUpdate) throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + SEG_COLS + " FROM " + segmentsTable
                                                       + " WHERE id = ? AND name = ? AND status <> 'STAGING'"
                                                       + (forUpdate ? " FOR UPDATE" : ""))) {
            ps.setString(1, id);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? toInfo(rs) : null;
            }
        }
    }

    /** A segment from a row of {@link #SEG_COLS}: the JSON state, with the columns that change without it. */
    private SegmentInfo toInfo(ResultSet rs) throws SQLException, IOException {
        SegmentInfo s = readState(rs.getString(2));
        s.setId(rs.getString(1));
        s.setStatus(SegmentStatus.valueOf(rs.getString(3)));
        s.setRequestCount(rs.getInt(4));
        s.setBytes(rs.getLong(5));
        s.setTokens(rs.getLong(6));
        s.setEmittedOutput(Math.max(s.getEmittedOutput(), rs.getLong(7)));
        s.setEmittedErrors(Math.max(s.getEmittedErrors(), rs.getLong(8)));
        s.setEmittedSynthetic(Math.max(s.getEmittedSynthetic(), rs.getLong(9)));
        String owner = rs.getString(10);
        long left = rs.getLong(11);
        // (an open segment's lease_until only stamps its writer's last append)
        boolean noLease = rs.wasNull() || owner == null || s.getStatus() == SegmentStatus.OPEN;
        if (noLease) {
            leaseCache.remove(s.getId());
        } else {
            leaseCache.put(s.getId(), new LeaseView(owner, System.nanoTime() + left * 1_000_000L));
        }
        return s;
    }

    private SegmentInfo readState(String json) throws IOException {
        return tables.readState(json);
    }

    private String writeState(SegmentInfo s) throws IOException {
        return tables.writeState(s);
    }

    // ---------------------------------------------------------------- sealing and state transitions

    @Override
    public List<String> sealOpen(Predicate<SegmentInfo> filter, SealReason reason) throws IOException {
        ensureOpen();
        // a plain read first: most calls (the engine's, every cycle) seal nothing and lock nothing
        List<SegmentInfo> candidates = autoCommitted(c -> {
            List<SegmentInfo> list = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SEG_COLS + " FROM " + segmentsTable
                                                           + " WHERE name = ? AND open_slot IS NOT NULL"
                                                           + " AND request_count > 0 ORDER BY endpoint, model, id")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        SegmentInfo s = toInfo(rs);
                        if (filter.test(s)) {
                            list.add(s);
                        }
                    }
                }
            }
            return list;
        });
        if (candidates.isEmpty()) {
            return List.of();
        }
        return inTx(asyncSpool(), c -> {
            List<String> sealed = new ArrayList<>();
            long now = System.currentTimeMillis();
            for (SegmentInfo candidate : candidates) {
                // locked and read again: a producer may have appended (or sealed) meanwhile
                JdbcOpenSegment seg = segmentRows.lockOpen(c, candidate.getId());
                if (seg == null) {
                    continue;
                }
                if (seg.count > 0 && filter.test(seg.info)) {
                    segmentRows.seal(c, seg, reason, now);
                    sealed.add(seg.id());
                }
            }
            return sealed;
        });
    }

    @Override
    public void update(SegmentInfo segment) throws IOException {
        ensureOpen();
        flushCheckpoints();
        String owner = leaseOwner;
        int n = autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET status = ?,"
                                                           + " open_slot = NULL, attempt = ?, parent_id = ?,"
                                                           + " request_count = ?, bytes = ?, tokens = ?, state = ?,"
                                                           + " emitted_output = GREATEST(emitted_output, ?),"
                                                           + " emitted_errors = GREATEST(emitted_errors, ?),"
                                                           + " emitted_synthetic = GREATEST(emitted_synthetic, ?),"
                                                           + " updated_at = ? WHERE id = ? AND name = ?"
                                                           + " AND status NOT IN ('OPEN', 'STAGING')"
                                                           + fence(owner))) {
                ps.setString(1, segment.getStatus().name());
                ps.setInt(2, segment.getAttempt());
                ps.setString(3, segment.getParentId());
                ps.setInt(4, segment.getRequestCount());
                ps.setLong(5, segment.getBytes());
                ps.setLong(6, segment.getTokens());
                ps.setString(7, writeState(segment));
                ps.setLong(8, segment.getEmittedOutput());
                ps.setLong(9, segment.getEmittedErrors());
                ps.setLong(10, segment.getEmittedSynthetic());
                ps.setLong(11, System.currentTimeMillis());
                ps.setString(12, segment.getId());
                ps.setString(13, name);
                if (owner != null) {
                    ps.setString(14, owner);
                }
                return ps.executeUpdate();
            }
        });
        if (n == 0) {
            refused(segment.getId(), owner, true);
        }
    }

    private static String fence(String owner) {
        return owner == null ? "" : " AND (lease_owner IS NULL OR lease_owner = ?)";
    }

    /** Why a fenced change of a segment touched no row. */
    private void refused(String id, String owner, boolean openIsError) throws IOException {
        String[] row = autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT status, lease_owner FROM " + segmentsTable
                                                           + " WHERE id = ? AND name = ?")) {
                ps.setString(1, id);
                ps.setString(2, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? new String[] { rs.getString(1), rs.getString(2) } : null;
                }
            }
        });
        if (row == null || SegmentStatus.STAGING.name().equals(row[0])) {
            throw new IllegalStateException("Unknown segment " + id);
        }
        if (openIsError && SegmentStatus.OPEN.name().equals(row[0])) {
            throw new IllegalStateException("Segment " + id + " is open; seal it first");
        }
        leaseCache.put(id, new LeaseView(row[1], System.nanoTime()));
        throw new LeaseLostException(id, owner, row[1]);
    }

    @Override
    public SegmentInfo createSealedSegment(String endpoint, String model, int attempt, String parentId,
                                           List<SpoolRecord> records) throws IOException {
        ensureOpen();
        SegmentInfo s = SegmentInfo.create(name, endpoint, model, SegmentStatus.SEALED, System.currentTimeMillis());
        s.setAttempt(attempt);
        s.setParentId(parentId);
        long bytes = 0;
        long tokens = 0;
        for (SpoolRecord r : records) {
            bytes += r.line().length + 1;
            tokens += r.tokens();
        }
        s.setRequestCount(records.size());
        s.setBytes(bytes);
        s.setTokens(tokens);
        s.setSealedAt(System.currentTimeMillis());
        s.sealedBy(SealReason.RETRY);
        String owner = leaseOwner;
        inTx(false, c -> {
            if (owner != null && parentId != null) {
                // only the holder of the parent's lease makes its retry segment (never two nodes at once)
                try (PreparedStatement ps = c.prepareStatement("SELECT lease_owner FROM " + segmentsTable
                                                               + " WHERE id = ? FOR UPDATE")) {
                    ps.setString(1, parentId);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next() && rs.getString(1) != null && !owner.equals(rs.getString(1))) {
                            throw new LeaseLostException(parentId, owner, rs.getString(1));
                        }
                    }
                }
            }
            // the ids move from the parent (which keeps its lines for its own emission) to the new segment
            List<String> ids = new ArrayList<>(records.size());
            for (SpoolRecord r : records) {
                ids.add(r.customId());
            }
            for (int from = 0; from < ids.size(); from += JdbcRequestRows.IN_CHUNK) {
                List<String> chunk = ids.subList(from, Math.min(ids.size(), from + JdbcRequestRows.IN_CHUNK));
                StringBuilder sql = new StringBuilder("UPDATE ").append(requestsTable)
                        .append(" SET live_id = NULL WHERE name = ? AND live_id IN (");
                for (int i = 0; i < chunk.size(); i++) {
                    sql.append(i == 0 ? "?" : ", ?");
                }
                sql.append(')');
                try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                    ps.setString(1, name);
                    for (int i = 0; i < chunk.size(); i++) {
                        ps.setString(i + 2, chunk.get(i));
                    }
                    ps.executeUpdate();
                }
            }
            segmentRows.insert(c, s, null, false);
            List<JdbcRequestRows.Row> rows = new ArrayList<>(records.size());
            int seq = 0;
            for (SpoolRecord r : records) {
                rows.add(new JdbcRequestRows.Row(s.getId(), ++seq, r));
            }
            requestRows.insertBatch(c, rows);
            return null;
        });
        return s.copy();
    }

    // ---------------------------------------------------------------- request lines

    @Override
    public Path uploadFile(String segmentId) throws IOException {
        ensureOpen();
        PrivateFiles.createDirectories(workDirectory);
        Path file = PrivateFiles.createTempFile(workDirectory, "upload-" + segmentId + "-", ".jsonl");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            streamLines(segmentId, line -> {
                try {
                    out.write(line);
                    out.write('\n');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            if (e instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            throw e;
        }
        return file;
    }

    @Override
    public void releaseUploadFile(String segmentId, Path file) throws IOException {
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    @Override
    public void readRequests(String segmentId, Consumer<byte[]> lineConsumer) throws IOException {
        ensureOpen();
        streamLines(segmentId, lineConsumer);
    }

    /**
     * The lines of a segment in order, fetched {@value #BATCH_ROWS} rows at a time (a cursor: PostgreSQL streams
     * only with autocommit off), never all in memory.
     */
    private void streamLines(String segmentId, Consumer<byte[]> lineConsumer) throws IOException {
        readInTx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT line FROM " + requestsTable
                                                           + " WHERE segment_id = ? ORDER BY seq")) {
                ps.setFetchSize(BATCH_ROWS);
                ps.setString(1, segmentId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        lineConsumer.accept(rs.getBytes(1));
                    }
                }
            }
            return null;
        });
    }

    @Override
    public Map<String, byte[]> carriedHeaders(String segmentId) throws IOException {
        ensureOpen();
        return readInTx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT custom_id, carried FROM " + requestsTable
                                                           + " WHERE segment_id = ? AND carried IS NOT NULL")) {
                ps.setFetchSize(BATCH_ROWS);
                ps.setString(1, segmentId);
                Map<String, byte[]> map = new HashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        map.put(rs.getString(1), rs.getBytes(2));
                    }
                }
                return map;
            }
        });
    }

    /**
     * A read in a transaction of its own, never retried (it may feed a consumer as it goes): PostgreSQL streams a
     * result with a fetch size (a cursor) only outside of autocommit.
     */
    private <T> T readInTx(Work<T> work) throws IOException {
        Connection c;
        try {
            c = connections.borrow();
        } catch (SQLException e) {
            throw sqlFailure(e);
        }
        Throwable failure = null;
        try {
            c.setAutoCommit(false);
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException e) {
            failure = e;
            rollbackQuietly(c);
            throw sqlFailure(e);
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
            rollbackQuietly(c);
            throw e;
        } finally {
            connections.release(c, failure);
        }
    }

    // ---------------------------------------------------------------- emission

    @Override
    public void checkpoint(String segmentId, long output, long errors, long synthetic) throws IOException {
        ensureOpen();
        String owner = leaseOwner;
        boolean written;
        try {
            written = checkpoints.checkpoint(segmentId, output, errors, synthetic, owner);
        } catch (SQLException e) {
            throw sqlFailure(e);
        }
        if (!written) {
            refused(segmentId, owner, false);
        }
    }

    /** Writes the checkpoints held back ({@link JdbcCheckpoints}) before a segment is read or changed. */
    private void flushCheckpoints() throws IOException {
        JdbcCheckpoints c = checkpoints;
        if (c != null) {
            try {
                c.flush();
            } catch (SQLException e) {
                throw sqlFailure(e);
            }
        }
    }

    @Override
    public void complete(SegmentInfo segment) throws IOException {
        ensureOpen();
        flushCheckpoints();
        String owner = leaseOwner;
        SegmentInfo s = segment.copy();
        SegmentLifecycle.move(s, SegmentStatus.DONE);
        // 1 = completed now, 0 = completed before (by this node before a failure to answer, or by another), -1 = the
        // lease is another node's
        int outcome = inTx(false, c -> {
            SegmentInfo latest = readSegment(c, s.getId(), true);
            if (latest == null) {
                return 0;
            }
            s.setEmittedOutput(Math.max(s.getEmittedOutput(), latest.getEmittedOutput()));
            s.setEmittedErrors(Math.max(s.getEmittedErrors(), latest.getEmittedErrors()));
            s.setEmittedSynthetic(Math.max(s.getEmittedSynthetic(), latest.getEmittedSynthetic()));
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + segmentsTable + " WHERE id = ?"
                                                           + fence(owner))) {
                ps.setString(1, s.getId());
                if (owner != null) {
                    ps.setString(2, owner);
                }
                if (ps.executeUpdate() == 0) {
                    return -1;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + requestsTable
                                                           + " WHERE segment_id = ?")) {
                ps.setString(1, s.getId());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + historyTable
                                                           + " (name, segment_id, finished_at, state)"
                                                           + " VALUES (?, ?, ?, ?)")) {
                ps.setString(1, name);
                ps.setString(2, s.getId());
                ps.setLong(3, System.currentTimeMillis());
                ps.setString(4, writeState(s));
                ps.executeUpdate();
            }
            return 1;
        });
        if (outcome < 0) {
            refused(s.getId(), owner, false);
        }
        leaseCache.remove(s.getId());
        if (outcome > 0 && completions.incrementAndGet() % HISTORY_PRUNE_EVERY == 0) {
            pruneHistory();
        }
    }

    private void pruneHistory() {
        try {
            autoCommitted(c -> {
                long keepFrom;
                try (PreparedStatement ps = c.prepareStatement("SELECT seq FROM " + historyTable + " WHERE name = ?"
                                                               + " ORDER BY seq DESC LIMIT 1 OFFSET ?")) {
                    ps.setString(1, name);
                    ps.setInt(2, HISTORY_KEEP - 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return null;
                        }
                        keepFrom = rs.getLong(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + historyTable + " WHERE name = ?"
                                                               + " AND seq < ?")) {
                    ps.setString(1, name);
                    ps.setLong(2, keepFrom);
                    ps.executeUpdate();
                }
                return null;
            });
        } catch (IOException e) {
            LOG.debug("Store '{}': cannot prune the history: {}", name, e.toString());
        }
    }

    @Override
    public List<SegmentInfo> history(int max) {
        ensureOpen();
        try {
            return autoCommitted(c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT state FROM " + historyTable
                                                               + " WHERE name = ? ORDER BY seq DESC LIMIT ?")) {
                    ps.setString(1, name);
                    ps.setInt(2, Math.max(0, max));
                    List<SegmentInfo> list = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            try {
                                list.add(readState(rs.getString(1)));
                            } catch (IOException e) {
                                LOG.debug("Skipping an unreadable history record: {}", e.getMessage());
                            }
                        }
                    }
                    Collections.reverse(list);
                    return list;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- leases

    private record LeaseView(String owner, long untilNanos) {
    }

    @Override
    public boolean supportsLeases() {
        return true;
    }

    @Override
    public boolean tryClaim(String segmentId, String owner, long leaseMillis) throws IOException {
        ensureOpen();
        leaseOwner = owner;
        LeaseView seen = leaseCache.get(segmentId);
        if (seen != null && seen.owner != null && !seen.owner.equals(owner) && System.nanoTime() < seen.untilNanos) {
            // another node's lease that has not expired when last read: no need to ask the database
            return false;
        }
        Boolean claimed = inTx(false, c -> {
            String holder;
            long left;
            try (PreparedStatement ps = c.prepareStatement("SELECT lease_owner, lease_until - " + NOW_MS + " FROM "
                                                           + segmentsTable + " WHERE id = ? AND name = ?"
                                                           + " AND status NOT IN ('OPEN', 'STAGING')"
                                                           + " FOR UPDATE SKIP LOCKED")) {
                ps.setString(1, segmentId);
                ps.setString(2, name);
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
                leaseCache.put(segmentId, new LeaseView(holder, System.nanoTime() + left * 1_000_000L));
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET lease_owner = ?,"
                                                           + " lease_until = " + NOW_MS + " + ? WHERE id = ?")) {
                ps.setString(1, owner);
                ps.setLong(2, leaseMillis);
                ps.setString(3, segmentId);
                ps.executeUpdate();
            }
            if (holder != null && !holder.equals(owner)) {
                LOG.info("Store '{}': segment {} taken over from '{}' (lease expired {} ms ago) by '{}'", name,
                        segmentId, holder, -left, owner);
            }
            return true;
        });
        if (claimed) {
            leaseCache.remove(segmentId);
        }
        return claimed;
    }

    @Override
    public Set<String> renewLeases(String owner, long leaseMillis) throws IOException {
        ensureOpen();
        leaseOwner = owner;
        return inTx(false, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET lease_until = " + NOW_MS
                                                           + " + ? WHERE name = ? AND lease_owner = ?")) {
                ps.setLong(1, leaseMillis);
                ps.setString(2, name);
                ps.setString(3, owner);
                ps.executeUpdate();
            }
            Set<String> held = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + segmentsTable
                                                           + " WHERE name = ? AND lease_owner = ?")) {
                ps.setString(1, name);
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

    @Override
    public void releaseLease(String segmentId, String owner) throws IOException {
        ensureOpen();
        flushCheckpoints();
        autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET lease_owner = NULL,"
                                                           + " lease_until = NULL WHERE id = ? AND lease_owner = ?")) {
                ps.setString(1, segmentId);
                ps.setString(2, owner);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public void releaseLeases(String owner) throws IOException {
        if (closed) {
            return;
        }
        flushCheckpoints();
        int n = autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET lease_owner = NULL,"
                                                           + " lease_until = NULL WHERE name = ? AND lease_owner = ?")) {
                ps.setString(1, name);
                ps.setString(2, owner);
                return ps.executeUpdate();
            }
        });
        if (n > 0) {
            LOG.info("Store '{}': released {} lease(s) of '{}'", name, n, owner);
        }
    }

    /** Lease holders by segment id, for diagnostics and tests: {@code owner} or {@code null}. */
    public Map<String, String> leaseHolders() throws IOException {
        ensureOpen();
        return autoCommitted(c -> {
            Map<String, String> m = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, lease_owner FROM " + segmentsTable
                                                           + " WHERE name = ? AND status <> 'STAGING'"
                                                           + " ORDER BY created_at, id")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        m.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return m;
        });
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            flushCheckpoints();
        } catch (IOException e) {
            LOG.warn("Store '{}': cannot write the last emission checkpoints: {}", name, e.getMessage());
        }
        closed = true;
        leaseCache.clear();
        JdbcSpool sp = spool;
        if (sp != null) {
            sp.close();
        }
        connections.close();
    }
}
