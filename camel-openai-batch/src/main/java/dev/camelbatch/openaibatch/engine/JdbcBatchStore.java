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
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store in a relational database shared by several nodes: PostgreSQL (the target) or H2 (embedded, for tests and
 * small setups), through plain JDBC and a {@link DataSource} (use a pooled one: HikariCP, Agroal, the pool of your
 * platform; a few connections per endpoint name are enough).
 * <p>
 * Three tables, named with a prefix (default {@value #DEFAULT_TABLE_PREFIX}), created on {@link #start()} when
 * missing (the same DDL ships as {@code openai-batch-schema-postgresql.sql} for those who manage schemas):
 * <ul>
 * <li>{@code segments}: one row per live segment: status, counts, the full state as JSON, the emission checkpoint
 * and the lease ({@code lease_owner}, {@code lease_until} in the database's clock). The open segment of a group
 * (name, endpoint, model) is the one row with {@code open_slot = 1} (a unique constraint).</li>
 * <li>{@code requests}: one row per request line (and its carried headers), numbered within its segment. The custom
 * id of a request that is spooled or in flight is also in {@code live_id}, unique per name: duplicates are found by
 * a query first and refused by the constraint when two nodes race.</li>
 * <li>{@code history}: compact records of finished segments.</li>
 * </ul>
 * Appends are group-committed: concurrent producers of a node share one transaction with a JDBC batch insert
 * (one producer at a time writes, those arriving meanwhile go into its next transaction). A JSONL document streams
 * into one transaction of its own in batches of {@value #BATCH_ROWS} rows and becomes visible at its commit. With
 * {@link SyncPolicy#ALWAYS} a request is on the database's disk when {@code append} returns; otherwise (PostgreSQL)
 * the spool's transactions commit with {@code synchronous_commit = off}: the request is in the database server at
 * once and on its disk within a fraction of a second, the analogue of the file store's {@code INTERVAL}. State
 * transitions always commit synchronously; emission checkpoints asynchronously (they must survive the death of a
 * node, as the file store's do, and be cheap enough for one per line).
 * <p>
 * Leases: a segment past OPEN is driven by the one node that holds its lease ({@link #tryClaim}, {@code SELECT …
 * FOR UPDATE SKIP LOCKED}); the holder renews its leases while it lives; a lease that is not renewed expires and
 * another node claims the segment and carries on from its recorded state and checkpoint. Every change that a
 * holder makes to a segment ({@link #update}, {@link #checkpoint}, {@link #complete}) is fenced: it is refused
 * with a {@link LeaseLostException} once another node holds the lease.
 */
public class JdbcBatchStore implements BatchStore {

    public static final String DEFAULT_TABLE_PREFIX = "openai_batch_";
    /** Rows per JDBC batch (document chunks and group commits). */
    static final int BATCH_ROWS = 1000;
    private static final int IN_CHUNK = 500;
    private static final int MAX_GROUP_ROWS = 20_000;
    private static final int MAX_ATTEMPTS = 6;
    private static final int HISTORY_KEEP = 10_000;
    private static final int HISTORY_PRUNE_EVERY = 100;
    /**
     * The database's clock in epoch milliseconds (leases never compare the clocks of two nodes); package-private for
     * the store's tests, which read and move a lease's recorded expiry with it.
     */
    static final String NOW_MS = "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)";
    private static final Pattern PREFIX = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*\\.)?[A-Za-z_][A-Za-z0-9_]*");
    private static final Logger LOG = LoggerFactory.getLogger(JdbcBatchStore.class);
    private static final String SEG_COLS = "id, state, status, request_count, bytes, tokens, emitted_output,"
                                           + " emitted_errors, emitted_synthetic, lease_owner, lease_until - "
                                           + NOW_MS;

    private final DataSource dataSource;
    private final String name;
    private final String prefix;
    private final SyncPolicy syncPolicy;
    private final ObjectMapper mapper;
    private final Path workDirectory;
    private final String segmentsTable;
    private final String requestsTable;
    private final String historyTable;
    private boolean createSchema = true;

    private volatile boolean postgres;
    private volatile boolean started;
    private volatile boolean closed;
    /** The owner this store claims leases for (the node id of its engine); fences changes once set. */
    private volatile String leaseOwner;
    /** What the last reads saw of other owners' leases: claims of segments leased elsewhere skip the database. */
    private final Map<String, LeaseView> leaseCache = new ConcurrentHashMap<>();

    private final ReentrantLock groupLock = new ReentrantLock();
    private final Condition groupDone = groupLock.newCondition();
    private final ArrayDeque<AppendCall> pending = new ArrayDeque<>();
    private boolean writing;
    private final AtomicLong appendTransactions = new AtomicLong();
    private final AtomicLong appendCalls = new AtomicLong();
    private final AtomicLong completions = new AtomicLong();

    /**
     * @param dataSource    where the tables are (a pooled data source)
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
        this.mapper = mapper;
        this.workDirectory = workDirectory;
        this.segmentsTable = p + "segments";
        this.requestsTable = p + "requests";
        this.historyTable = p + "history";
    }

    /** Whether {@link #start()} creates missing tables (default true); false when the schema is managed elsewhere. */
    public JdbcBatchStore createSchema(boolean create) {
        this.createSchema = create;
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
        return postgres;
    }

    /** Transactions that appended requests (a group commit counts once). */
    public long appendTransactions() {
        return appendTransactions.get();
    }

    /** Calls of {@link #append} that succeeded. */
    public long appendCalls() {
        return appendCalls.get();
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
        try (Connection c = dataSource.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            postgres = md.getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
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
            LOG.info("Store '{}': {} {} tables {}*{}", name, md.getDatabaseProductName(),
                    md.getDatabaseProductVersion(), prefix, postgres && syncPolicy != SyncPolicy.ALWAYS
                            ? " (spool commits with synchronous_commit=off)" : "");
        } catch (SQLException e) {
            throw new IOException("Store '" + name + "': cannot use the database: " + e.getMessage(), e);
        }
        started = true;
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
            if (postgres) {
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
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(false);
                try {
                    if (async) {
                        asyncCommit(c);
                    }
                    T result = work.run(c);
                    c.commit();
                    return result;
                } catch (SQLException | IOException | RuntimeException | Error e) {
                    rollbackQuietly(c);
                    throw e;
                } finally {
                    resetAutoCommit(c);
                }
            } catch (SQLException e) {
                if (attempt < MAX_ATTEMPTS && transientFailure(e)) {
                    LOG.debug("Store '{}': transaction retried after {}", name, e.toString());
                    pause(attempt);
                    continue;
                }
                throw sqlFailure(e);
            }
        }
    }

    /** Work outside of a transaction (autocommit), retried like {@link #inTx}. */
    private <T> T autoCommitted(Work<T> work) throws IOException {
        for (int attempt = 1;; attempt++) {
            try (Connection c = dataSource.getConnection()) {
                if (!c.getAutoCommit()) {
                    c.setAutoCommit(true);
                }
                return work.run(c);
            } catch (SQLException e) {
                if (attempt < MAX_ATTEMPTS && transientFailure(e)) {
                    pause(attempt);
                    continue;
                }
                throw sqlFailure(e);
            }
        }
    }

    private void asyncCommit(Connection c) throws SQLException {
        if (postgres) {
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL synchronous_commit TO OFF");
            }
        }
    }

    private boolean asyncSpool() {
        return postgres && syncPolicy != SyncPolicy.ALWAYS;
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

    private static void pause(int attempt) {
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
            // the connection is broken; the pool discards it
        }
    }

    private static void resetAutoCommit(Connection c) {
        try {
            c.setAutoCommit(true);
        } catch (SQLException e) {
            // the connection is broken; the pool discards it
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

    // ---------------------------------------------------------------- append (group commit)

    private static final class AppendCall {
        final String endpoint;
        final String model;
        final List<SpoolRecord> records;
        final SegmentLimits limits;
        boolean done;
        List<String> sealed;
        RuntimeException refused;
        IOException failure;

        AppendCall(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits) {
            this.endpoint = endpoint;
            this.model = model;
            this.records = records;
            this.limits = limits;
        }

        String group() {
            return endpoint + '\u0000' + model;
        }
    }

    @Override
    public List<String> append(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits)
            throws IOException {
        if (records.isEmpty()) {
            return List.of();
        }
        ensureOpen();
        if (records.size() > 1) {
            Set<String> within = new HashSet<>(records.size() * 2);
            for (int i = 0; i < records.size(); i++) {
                if (!within.add(records.get(i).customId())) {
                    throw new DuplicateCustomIdException(name, records.get(i).customId(),
                            "line " + (i + 1) + " repeats an earlier line");
                }
            }
        }
        AppendCall call = new AppendCall(endpoint, model, records, limits);
        groupLock.lock();
        try {
            pending.add(call);
            while (!call.done) {
                if (!writing) {
                    // this producer writes for every producer waiting now (its own call among them)
                    writing = true;
                    List<AppendCall> group = drainPending();
                    groupLock.unlock();
                    try {
                        writeGroup(group);
                    } finally {
                        groupLock.lock();
                        writing = false;
                        groupDone.signalAll();
                    }
                } else {
                    groupDone.awaitUninterruptibly();
                }
            }
        } finally {
            groupLock.unlock();
        }
        if (call.refused != null) {
            throw call.refused;
        }
        if (call.failure != null) {
            throw call.failure;
        }
        appendCalls.incrementAndGet();
        return call.sealed;
    }

    private List<AppendCall> drainPending() {
        List<AppendCall> group = new ArrayList<>();
        int rows = 0;
        while (!pending.isEmpty() && (group.isEmpty() || rows + pending.peek().records.size() <= MAX_GROUP_ROWS)) {
            AppendCall c = pending.poll();
            rows += c.records.size();
            group.add(c);
        }
        return group;
    }

    private void writeGroup(List<AppendCall> group) {
        try {
            if (group.size() > 1) {
                try {
                    publish(inTx(asyncSpool(), c -> writeCalls(c, group)));
                    return;
                } catch (IOException | RuntimeException e) {
                    // one call may have spoiled the shared transaction (a duplicate raced in from another node):
                    // each call again in a transaction of its own, so that only the guilty one fails
                    LOG.debug("Store '{}': group commit of {} calls failed ({}); writing them one by one", name,
                            group.size(), e.toString());
                }
            }
            for (AppendCall call : group) {
                writeAlone(call);
            }
        } catch (RuntimeException | Error e) {
            for (AppendCall call : group) {
                if (!call.done) {
                    call.failure = new IOException("Store '" + name + "': append failed: " + e, e);
                    call.done = true;
                }
            }
            throw e;
        }
    }

    private void writeAlone(AppendCall call) {
        for (int attempt = 1;; attempt++) {
            try {
                publish(inTx(asyncSpool(), c -> writeCalls(c, List.of(call))));
                return;
            } catch (IOException e) {
                if (uniqueViolation(e) && attempt < MAX_ATTEMPTS) {
                    // a duplicate committed by another node meanwhile (found by the next pre-check), or two nodes
                    // opened a segment for the same group at once (the next attempt finds the other's)
                    continue;
                }
                call.failure = e;
                call.done = true;
                return;
            } catch (RuntimeException e) {
                call.failure = new IOException("Store '" + name + "': append failed: " + e, e);
                call.done = true;
                return;
            }
        }
    }

    private void publish(Map<AppendCall, Object> outcome) {
        appendTransactions.incrementAndGet();
        for (Map.Entry<AppendCall, Object> e : outcome.entrySet()) {
            AppendCall call = e.getKey();
            if (e.getValue() instanceof RuntimeException r) {
                call.refused = r;
            } else {
                @SuppressWarnings("unchecked")
                List<String> sealed = (List<String>) e.getValue();
                call.sealed = sealed;
            }
            call.done = true;
        }
    }

    /** Writes the calls in the transaction of {@code c}; the outcome per call: the ids sealed, or the refusal. */
    private Map<AppendCall, Object> writeCalls(Connection c, List<AppendCall> calls) throws SQLException,
            IOException {
        Map<AppendCall, Object> outcome = new IdentityHashMap<>();
        Set<String> ids = new HashSet<>();
        for (AppendCall call : calls) {
            for (SpoolRecord r : call.records) {
                ids.add(r.customId());
            }
        }
        Set<String> taken = liveIds(c, ids);
        List<AppendCall> accepted = new ArrayList<>(calls.size());
        Set<String> inGroup = calls.size() > 1 ? new HashSet<>() : null;
        for (AppendCall call : calls) {
            DuplicateCustomIdException dup = null;
            for (int i = 0; i < call.records.size() && dup == null; i++) {
                String id = call.records.get(i).customId();
                if (taken.contains(id) || (inGroup != null && inGroup.contains(id))) {
                    dup = new DuplicateCustomIdException(name, id, call.records.size() > 1 ? "line " + (i + 1) : null);
                }
            }
            if (dup != null) {
                outcome.put(call, dup);
                continue;
            }
            if (inGroup != null) {
                for (SpoolRecord r : call.records) {
                    inGroup.add(r.customId());
                }
            }
            accepted.add(call);
        }
        // groups in a fixed order: transactions of several nodes lock the open segments in the same order
        accepted.sort(Comparator.comparing(AppendCall::group));
        long now = System.currentTimeMillis();
        try (PreparedStatement insert = c.prepareStatement(insertRequestSql())) {
            int batched = 0;
            int i = 0;
            while (i < accepted.size()) {
                String group = accepted.get(i).group();
                AppendCall first = accepted.get(i);
                OpenSegment seg = lockOpen(c, first.endpoint, first.model);
                for (; i < accepted.size() && accepted.get(i).group().equals(group); i++) {
                    AppendCall call = accepted.get(i);
                    List<String> sealed = new ArrayList<>(1);
                    for (SpoolRecord r : call.records) {
                        int lineBytes = r.line().length;
                        if (seg == null) {
                            seg = createOpen(c, call.endpoint, call.model, call.limits, now);
                        } else if (seg.count > 0 && call.limits.wouldOverflow(seg.count, seg.bytes, seg.tokens,
                                lineBytes, r.tokens())) {
                            seal(c, seg, sealReason(call.limits, seg, lineBytes, r.tokens()), now);
                            sealed.add(seg.info.getId());
                            seg = createOpen(c, call.endpoint, call.model, call.limits, now);
                        }
                        seg.count++;
                        bindRequest(insert, seg.info.getId(), seg.count, r, true);
                        insert.addBatch();
                        if (++batched >= BATCH_ROWS) {
                            insert.executeBatch();
                            batched = 0;
                        }
                        seg.bytes += lineBytes + 1;
                        seg.tokens += r.tokens();
                        seg.dirty = true;
                        if (call.limits.isFull(seg.count, seg.bytes, seg.tokens)) {
                            seal(c, seg, sealReason(call.limits, seg, 0, 0), now);
                            sealed.add(seg.info.getId());
                            seg = null;
                        }
                    }
                    outcome.put(call, sealed);
                }
                if (seg != null && seg.dirty) {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable
                                                                   + " SET request_count = ?, bytes = ?, tokens = ?,"
                                                                   + " updated_at = ? WHERE id = ?")) {
                        ps.setInt(1, seg.count);
                        ps.setLong(2, seg.bytes);
                        ps.setLong(3, seg.tokens);
                        ps.setLong(4, now);
                        ps.setString(5, seg.info.getId());
                        ps.executeUpdate();
                    }
                }
            }
            if (batched > 0) {
                insert.executeBatch();
            }
        }
        return outcome;
    }

    private String insertRequestSql() {
        return "INSERT INTO " + requestsTable + " (segment_id, seq, name, custom_id, live_id, tokens, line, carried)"
               + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    }

    private void bindRequest(PreparedStatement ps, String segmentId, int seq, SpoolRecord r, boolean live)
            throws SQLException {
        ps.setString(1, segmentId);
        ps.setInt(2, seq);
        ps.setString(3, name);
        ps.setString(4, r.customId());
        ps.setString(5, live ? r.customId() : null);
        ps.setInt(6, r.tokens());
        ps.setBytes(7, r.line());
        ps.setBytes(8, r.carriedHeaders());
    }

    /** The open segment of a group, locked for this transaction, or null. */
    private OpenSegment lockOpen(Connection c, String endpoint, String model) throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id, request_count, bytes, tokens, state FROM "
                                                       + segmentsTable + " WHERE name = ? AND endpoint = ?"
                                                       + " AND model = ? AND open_slot = 1 FOR UPDATE")) {
            ps.setString(1, name);
            ps.setString(2, endpoint);
            ps.setString(3, model);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                SegmentInfo info = readState(rs.getString(5));
                OpenSegment seg = new OpenSegment(info);
                seg.count = rs.getInt(2);
                seg.bytes = rs.getLong(3);
                seg.tokens = rs.getLong(4);
                return seg;
            }
        }
    }

    private OpenSegment createOpen(Connection c, String endpoint, String model, SegmentLimits limits, long now)
            throws SQLException, IOException {
        SegmentInfo s = SegmentInfo.create(name, endpoint, model, SegmentStatus.OPEN, now);
        s.setMaxAgeMillis(limits.maxAgeMillis());
        insertSegment(c, s, true);
        LOG.debug("Store '{}': opened segment {} for {} {}", name, s.getId(), endpoint, model);
        return new OpenSegment(s);
    }

    private void insertSegment(Connection c, SegmentInfo s, boolean open) throws SQLException, IOException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + segmentsTable
                                                       + " (id, name, endpoint, model, status, open_slot, attempt,"
                                                       + " parent_id, request_count, bytes, tokens, created_at,"
                                                       + " updated_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                                       + " ?, ?, ?)")) {
            ps.setString(1, s.getId());
            ps.setString(2, name);
            ps.setString(3, s.getEndpoint());
            ps.setString(4, s.getModel());
            ps.setString(5, s.getStatus().name());
            if (open) {
                ps.setInt(6, 1);
            } else {
                ps.setNull(6, java.sql.Types.SMALLINT);
            }
            ps.setInt(7, s.getAttempt());
            ps.setString(8, s.getParentId());
            ps.setInt(9, s.getRequestCount());
            ps.setLong(10, s.getBytes());
            ps.setLong(11, s.getTokens());
            ps.setLong(12, s.getCreatedAt());
            ps.setLong(13, System.currentTimeMillis());
            ps.setString(14, writeState(s));
            ps.executeUpdate();
        }
    }

    private void seal(Connection c, OpenSegment seg, String reason, long now) throws SQLException, IOException {
        SegmentInfo s = seg.info;
        s.setRequestCount(seg.count);
        s.setBytes(seg.bytes);
        s.setTokens(seg.tokens);
        s.setStatus(SegmentStatus.SEALED);
        s.setSealedAt(now);
        s.setSealReason(reason);
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET status = ?, open_slot = NULL,"
                                                       + " request_count = ?, bytes = ?, tokens = ?, state = ?,"
                                                       + " updated_at = ? WHERE id = ?")) {
            ps.setString(1, SegmentStatus.SEALED.name());
            ps.setInt(2, seg.count);
            ps.setLong(3, seg.bytes);
            ps.setLong(4, seg.tokens);
            ps.setString(5, writeState(s));
            ps.setLong(6, now);
            ps.setString(7, s.getId());
            ps.executeUpdate();
        }
        LOG.debug("Store '{}': sealed {} ({} requests, {} bytes) by {}", name, s.getId(), seg.count, seg.bytes,
                reason);
    }

    private static final class OpenSegment {
        final SegmentInfo info;
        int count;
        long bytes;
        long tokens;
        boolean dirty;

        OpenSegment(SegmentInfo info) {
            this.info = info;
            this.count = info.getRequestCount();
            this.bytes = info.getBytes();
            this.tokens = info.getTokens();
        }
    }

    private static String sealReason(SegmentLimits limits, OpenSegment seg, int nextBytes, int nextTokens) {
        if (seg.count + (nextBytes > 0 ? 1 : 0) > limits.maxRequests() || seg.count >= limits.maxRequests()) {
            return "maxRequestsPerBatch";
        }
        if (seg.bytes + nextBytes + (nextBytes > 0 ? 1 : 0) > limits.maxBytes() || seg.bytes >= limits.maxBytes()) {
            return "maxBatchBytes";
        }
        return "maxBatchTokens";
    }

    /** Which of the ids are spooled or in flight under this name. */
    private Set<String> liveIds(Connection c, Collection<String> ids) throws SQLException {
        if (ids.isEmpty()) {
            return Set.of();
        }
        Set<String> found = new HashSet<>();
        List<String> all = new ArrayList<>(ids);
        for (int from = 0; from < all.size(); from += IN_CHUNK) {
            List<String> chunk = all.subList(from, Math.min(all.size(), from + IN_CHUNK));
            StringBuilder sql = new StringBuilder("SELECT live_id FROM ").append(requestsTable)
                    .append(" WHERE name = ? AND live_id IN (");
            for (int i = 0; i < chunk.size(); i++) {
                sql.append(i == 0 ? "?" : ", ?");
            }
            sql.append(')');
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                ps.setString(1, name);
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

    // ---------------------------------------------------------------- documents

    @Override
    public DocumentAppender beginDocument(String endpoint, SegmentLimits limits) throws IOException {
        ensureOpen();
        try {
            return new JdbcDocumentAppender(endpoint, limits);
        } catch (SQLException e) {
            throw sqlFailure(e);
        }
    }

    /**
     * A document in one transaction: its segments (STAGING) and rows are invisible to everyone else until the
     * commit; a rollback (or the death of the node, which ends the transaction) leaves nothing.
     */
    private final class JdbcDocumentAppender implements DocumentAppender {
        private final String endpoint;
        private final SegmentLimits limits;
        private final Connection c;
        private final PreparedStatement insert;
        private final LongHashSet ids = new LongHashSet(1024);
        private final Map<String, Staged> current = new HashMap<>();
        private final List<Staged> all = new ArrayList<>();
        private final List<String> bufferIds = new ArrayList<>(BATCH_ROWS);
        private final List<Long> bufferLines = new ArrayList<>(BATCH_ROWS);
        private boolean committed;
        private boolean failed;
        private boolean closed;

        JdbcDocumentAppender(String endpoint, SegmentLimits limits) throws SQLException {
            this.endpoint = endpoint;
            this.limits = limits;
            Connection conn = dataSource.getConnection();
            try {
                conn.setAutoCommit(false);
                if (asyncSpool()) {
                    asyncCommit(conn);
                }
                this.insert = conn.prepareStatement(insertRequestSql());
            } catch (SQLException e) {
                rollbackQuietly(conn);
                resetAutoCommit(conn);
                conn.close();
                throw e;
            }
            this.c = conn;
        }

        @Override
        public void add(String model, SpoolRecord record) throws IOException {
            add(model, record, 0);
        }

        @Override
        public void add(String model, SpoolRecord r, long lineNumber) throws IOException {
            if (committed || closed || failed) {
                throw new IllegalStateException("The document is " + (committed ? "committed" : "closed"));
            }
            if (!ids.add(CustomIdSet.hash(r.customId()))) {
                throw new DuplicateCustomIdException(name, r.customId(), "it repeats an earlier line of the document",
                        lineNumber);
            }
            try {
                Staged st = current.get(model);
                int lineBytes = r.line().length;
                if (st != null && st.count > 0
                        && limits.wouldOverflow(st.count, st.bytes, st.tokens, lineBytes, r.tokens())) {
                    st.sealReason = sealReason(limits, st.asOpen(), lineBytes, r.tokens());
                    st = null;
                }
                if (st == null) {
                    st = new Staged(model);
                    current.put(model, st);
                    all.add(st);
                }
                st.count++;
                st.bytes += lineBytes + 1;
                st.tokens += r.tokens();
                bindRequest(insert, st.info.getId(), st.count, r, true);
                insert.addBatch();
                bufferIds.add(r.customId());
                bufferLines.add(lineNumber);
                if (bufferIds.size() >= BATCH_ROWS) {
                    flush();
                }
            } catch (SQLException e) {
                failed = true;
                throw sqlFailure(e);
            }
        }

        /** Checks the buffered ids against the spool, then inserts them (one JDBC batch). */
        private void flush() throws SQLException, IOException {
            if (bufferIds.isEmpty()) {
                return;
            }
            Set<String> taken = liveIds(c, bufferIds);
            if (!taken.isEmpty()) {
                failed = true;
                for (int i = 0; i < bufferIds.size(); i++) {
                    if (taken.contains(bufferIds.get(i))) {
                        throw new DuplicateCustomIdException(name, bufferIds.get(i), null, bufferLines.get(i));
                    }
                }
            }
            try {
                insert.executeBatch();
            } catch (SQLException e) {
                failed = true;
                if (uniqueViolation(e)) {
                    // a request with one of these ids was spooled meanwhile (by another node or producer)
                    DuplicateCustomIdException dup = findRaced();
                    if (dup != null) {
                        throw dup;
                    }
                }
                throw e;
            }
            bufferIds.clear();
            bufferLines.clear();
        }

        private DuplicateCustomIdException findRaced() {
            try (Connection other = dataSource.getConnection()) {
                if (!other.getAutoCommit()) {
                    other.setAutoCommit(true);
                }
                Set<String> taken = liveIds(other, bufferIds);
                for (int i = 0; i < bufferIds.size(); i++) {
                    if (taken.contains(bufferIds.get(i))) {
                        return new DuplicateCustomIdException(name, bufferIds.get(i), null, bufferLines.get(i));
                    }
                }
            } catch (SQLException e) {
                LOG.debug("Cannot look for the duplicate: {}", e.toString());
            }
            return null;
        }

        @Override
        public List<String> commit(boolean seal) throws IOException {
            if (committed || closed || failed) {
                throw new IllegalStateException("The document is " + (committed ? "committed" : "closed"));
            }
            List<String> sealed = new ArrayList<>();
            try {
                flush();
                long now = System.currentTimeMillis();
                for (Staged st : all) {
                    SegmentInfo s = st.info;
                    s.setRequestCount(st.count);
                    s.setBytes(st.bytes);
                    s.setTokens(st.tokens);
                    boolean last = current.get(s.getModel()) == st && st.sealReason == null;
                    if (last && !seal && !limits.isFull(st.count, st.bytes, st.tokens) && becomeOpen(st, now)) {
                        continue;
                    }
                    s.setStatus(SegmentStatus.SEALED);
                    s.setSealedAt(now);
                    s.setSealReason(st.sealReason != null ? st.sealReason : seal ? "flush" : "documentEnd");
                    finishStaged(st, false, now);
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
            if (committed || closed || failed) {
                throw new IllegalStateException("The document is " + (committed ? "committed" : "closed"));
            }
            List<SegmentInfo> out = new ArrayList<>();
            try {
                flush();
                long now = System.currentTimeMillis();
                for (Staged st : all) {
                    SegmentInfo s = st.info;
                    s.setRequestCount(st.count);
                    s.setBytes(st.bytes);
                    s.setTokens(st.tokens);
                    s.setStatus(SegmentStatus.SEALED);
                    s.setSealedAt(now);
                    s.setSealReason(st.sealReason != null ? st.sealReason : "documentEnd");
                    prepare.accept(s);
                    if (s.getStatus() == SegmentStatus.OPEN || s.getStatus() == SegmentStatus.STAGING) {
                        throw new IllegalStateException("a prepared segment must be sealed or later, was "
                                                        + s.getStatus());
                    }
                }
                for (Staged st : all) {
                    finishStaged(st, false, now);
                    out.add(st.info.copy());
                }
                c.commit();
                committed = true;
                return out;
            } catch (SQLException e) {
                failed = true;
                throw sqlFailure(e);
            }
        }

        /** The last segment of a model stays open for later requests, unless the group has an open one. */
        private boolean becomeOpen(Staged st, long now) throws SQLException, IOException {
            Savepoint sp = c.setSavepoint();
            try {
                st.info.setStatus(SegmentStatus.OPEN);
                if (!finishStaged(st, true, now)) {
                    c.rollback(sp);
                    st.info.setStatus(SegmentStatus.STAGING);
                    return false;
                }
                c.releaseSavepoint(sp);
                return true;
            } catch (SQLException e) {
                if (!uniqueViolation(e)) {
                    throw e;
                }
                // another producer opened a segment for this group meanwhile: this one is sealed
                c.rollback(sp);
                st.info.setStatus(SegmentStatus.STAGING);
                return false;
            }
        }

        private boolean finishStaged(Staged st, boolean open, long now) throws SQLException, IOException {
            if (open) {
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + segmentsTable + " WHERE name = ?"
                                                               + " AND endpoint = ? AND model = ?"
                                                               + " AND open_slot = 1")) {
                    ps.setString(1, name);
                    ps.setString(2, st.info.getEndpoint());
                    ps.setString(3, st.info.getModel());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            return false;
                        }
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET status = ?,"
                                                           + " open_slot = ?, request_count = ?, bytes = ?,"
                                                           + " tokens = ?, state = ?, updated_at = ? WHERE id = ?")) {
                ps.setString(1, st.info.getStatus().name());
                if (open) {
                    ps.setInt(2, 1);
                } else {
                    ps.setNull(2, java.sql.Types.SMALLINT);
                }
                ps.setInt(3, st.count);
                ps.setLong(4, st.bytes);
                ps.setLong(5, st.tokens);
                ps.setString(6, writeState(st.info));
                ps.setLong(7, now);
                ps.setString(8, st.info.getId());
                ps.executeUpdate();
            }
            return true;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                insert.close();
            } catch (SQLException e) {
                // closing the connection closes it too
            }
            if (!committed) {
                rollbackQuietly(c);
            }
            resetAutoCommit(c);
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("Store '{}': closing a document's connection: {}", name, e.toString());
            }
        }

        private final class Staged {
            final SegmentInfo info;
            int count;
            long bytes;
            long tokens;
            String sealReason;

            Staged(String model) throws SQLException, IOException {
                info = SegmentInfo.create(name, endpoint, model, SegmentStatus.STAGING, System.currentTimeMillis());
                info.setMaxAgeMillis(limits.maxAgeMillis());
                insertSegment(c, info, false);
            }

            OpenSegment asOpen() {
                OpenSegment o = new OpenSegment(info);
                o.count = count;
                o.bytes = bytes;
                o.tokens = tokens;
                return o;
            }
        }
    }

    // ---------------------------------------------------------------- reads

    @Override
    public boolean containsCustomId(String customId) {
        ensureOpen();
        try {
            return autoCommitted(c -> !liveIds(c, List.of(customId)).isEmpty());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<SegmentInfo> segments() {
        ensureOpen();
        try {
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
        boolean noLease = rs.wasNull() || owner == null;
        if (noLease) {
            leaseCache.remove(s.getId());
        } else {
            leaseCache.put(s.getId(), new LeaseView(owner, System.nanoTime() + left * 1_000_000L));
        }
        return s;
    }

    private SegmentInfo readState(String json) throws IOException {
        try {
            return mapper.readValue(json, SegmentInfo.class);
        } catch (JsonProcessingException e) {
            throw new IOException("Store '" + name + "': unreadable segment state: " + e.getOriginalMessage(), e);
        }
    }

    private String writeState(SegmentInfo s) throws IOException {
        return mapper.writeValueAsString(s);
    }

    // ---------------------------------------------------------------- sealing and state transitions

    @Override
    public List<String> sealOpen(Predicate<SegmentInfo> filter, String reason) throws IOException {
        ensureOpen();
        // a plain read first: most calls (the engine's, every cycle) seal nothing and lock nothing
        List<SegmentInfo> candidates = autoCommitted(c -> {
            List<SegmentInfo> list = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SEG_COLS + " FROM " + segmentsTable
                                                           + " WHERE name = ? AND open_slot = 1"
                                                           + " AND request_count > 0 ORDER BY endpoint, model")) {
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
                try (PreparedStatement ps = c.prepareStatement("SELECT id, request_count, bytes, tokens, state FROM "
                                                               + segmentsTable + " WHERE id = ? AND open_slot = 1"
                                                               + " FOR UPDATE")) {
                    ps.setString(1, candidate.getId());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            continue;
                        }
                        SegmentInfo info = readState(rs.getString(5));
                        OpenSegment seg = new OpenSegment(info);
                        seg.count = rs.getInt(2);
                        seg.bytes = rs.getLong(3);
                        seg.tokens = rs.getLong(4);
                        info.setRequestCount(seg.count);
                        info.setBytes(seg.bytes);
                        info.setTokens(seg.tokens);
                        if (seg.count > 0 && filter.test(info)) {
                            rs.close();
                            seal(c, seg, reason, now);
                            sealed.add(info.getId());
                        }
                    }
                }
            }
            return sealed;
        });
    }

    @Override
    public void update(SegmentInfo segment) throws IOException {
        ensureOpen();
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
        SegmentInfo s = SegmentInfo.create(name, endpoint, model, SegmentStatus.OPEN, System.currentTimeMillis());
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
        s.setStatus(SegmentStatus.SEALED);
        s.setSealedAt(System.currentTimeMillis());
        s.setSealReason("retry of " + parentId);
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
            for (int from = 0; from < ids.size(); from += IN_CHUNK) {
                List<String> chunk = ids.subList(from, Math.min(ids.size(), from + IN_CHUNK));
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
            insertSegment(c, s, false);
            try (PreparedStatement insert = c.prepareStatement(insertRequestSql())) {
                int seq = 0;
                for (SpoolRecord r : records) {
                    bindRequest(insert, s.getId(), ++seq, r, true);
                    insert.addBatch();
                    if (seq % BATCH_ROWS == 0) {
                        insert.executeBatch();
                    }
                }
                if (seq % BATCH_ROWS != 0) {
                    insert.executeBatch();
                }
            }
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
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT line FROM " + requestsTable
                                                           + " WHERE segment_id = ? ORDER BY seq")) {
                ps.setFetchSize(BATCH_ROWS);
                ps.setString(1, segmentId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        lineConsumer.accept(rs.getBytes(1));
                    }
                }
                c.commit();
            } finally {
                rollbackQuietly(c);
                resetAutoCommit(c);
            }
        } catch (SQLException e) {
            throw sqlFailure(e);
        }
    }

    @Override
    public Map<String, byte[]> carriedHeaders(String segmentId) throws IOException {
        ensureOpen();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
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
                c.commit();
                return map;
            } finally {
                rollbackQuietly(c);
                resetAutoCommit(c);
            }
        } catch (SQLException e) {
            throw sqlFailure(e);
        }
    }

    // ---------------------------------------------------------------- emission

    @Override
    public void checkpoint(String segmentId, long output, long errors, long synthetic) throws IOException {
        ensureOpen();
        String owner = leaseOwner;
        int n = inTx(true, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET emitted_output = ?,"
                                                           + " emitted_errors = ?, emitted_synthetic = ?"
                                                           + " WHERE id = ? AND name = ?" + fence(owner))) {
                ps.setLong(1, output);
                ps.setLong(2, errors);
                ps.setLong(3, synthetic);
                ps.setString(4, segmentId);
                ps.setString(5, name);
                if (owner != null) {
                    ps.setString(6, owner);
                }
                return ps.executeUpdate();
            }
        });
        if (n == 0) {
            refused(segmentId, owner, false);
        }
    }

    @Override
    public void complete(SegmentInfo segment) throws IOException {
        ensureOpen();
        String owner = leaseOwner;
        SegmentInfo s = segment.copy();
        s.setStatus(SegmentStatus.DONE);
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
        closed = true;
        leaseCache.clear();
    }
}
