package dev.camelbatch.openaibatch.engine.store.jdbc;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.io.PrivateFiles;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.LeaseLostException;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
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
 * with a {@link LeaseLostException} once another node holds the lease ({@link JdbcLeases}).
 * <p>
 * The parts with a job of their own are classes of their own: the schema ({@link JdbcSchema}), transactions and
 * their retries ({@link JdbcTransactions}), connections ({@link JdbcConnections}), the append path
 * ({@link JdbcSpool}, {@link JdbcGroupWriter}, {@link JdbcDocumentAppender}), the rows ({@link JdbcSegmentRows},
 * {@link JdbcRequestRows}), checkpoints, leases and history. Why the rest is still long: it is the
 * {@link BatchStore} contract for segments, one short method per operation, each a statement or a transaction of a
 * few statements with the fence, the checkpoint flush and the lease cache that every segment change needs; moving
 * them apart would split one table's reads and writes across classes.
 */
public class JdbcBatchStore implements BatchStore {

    public static final String DEFAULT_TABLE_PREFIX = "openai_batch_";
    /** Rows per JDBC batch and per cursor fetch. */
    static final int BATCH_ROWS = JdbcRequestRows.BATCH_ROWS;
    /** Idle connections the store keeps for its transactions. */
    static final int IDLE_CONNECTIONS = 3;
    /**
     * Append lanes (group commits that write at the same time, each into open segments of its own): the system
     * property {@code openai-batch.jdbcAppendLanes}, default 2 (1 on a single core). One lane leaves the machine half
     * idle while its producers wait for each write's round trip; a second writes while the first waits.
     */
    static final int DEFAULT_APPEND_LANES = Integer.getInteger("openai-batch.jdbcAppendLanes",
            Math.min(2, Runtime.getRuntime().availableProcessors()));
    /**
     * Write a segment's emission checkpoint for every this many lines (and whenever the segment is read or changed):
     * the system property {@code openai-batch.jdbcCheckpointEvery}, default 1 (every line; see
     * {@link JdbcCheckpoints}).
     */
    static final int CHECKPOINT_EVERY = Integer.getInteger("openai-batch.jdbcCheckpointEvery", 1);
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
    private final JdbcConnections connections;
    private final JdbcTransactions tx;
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
    private final JdbcLeases leases;
    private final JdbcHistory history;

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
        this.connections = new JdbcConnections(dataSource, name, IDLE_CONNECTIONS);
        this.tx = new JdbcTransactions(connections, name, tables);
        this.leases = new JdbcLeases(tables, tx);
        this.history = new JdbcHistory(tables, tx);
        this.segmentRows = new JdbcSegmentRows(tables);
        this.requestRows = new JdbcRequestRows(tables);
    }

    /** Whether {@link #start()} creates missing tables (default true); false when the schema is managed elsewhere. */
    public JdbcBatchStore createSchema(boolean create) {
        this.createSchema = create;
        return this;
    }

    /** The append lanes of a store whose {@link #appendLanes(int)} is not set (read when this class loads). */
    public static int defaultAppendLanes() {
        return DEFAULT_APPEND_LANES;
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

    /** The DDL for a table prefix (see {@link JdbcSchema#ddl}). */
    public static List<String> ddl(String tablePrefix) {
        return JdbcSchema.ddl(tablePrefix);
    }

    /** The DDL as a script, as shipped in {@code openai-batch-schema-postgresql.sql}. */
    public static String ddlScript(String tablePrefix) {
        return JdbcSchema.ddlScript(tablePrefix);
    }

    /** Connects, creates the tables when missing (unless disabled) and checks that they are usable. */
    public void start() throws IOException {
        boolean postgres;
        try (Connection c = dataSource.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            postgres = md.getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
            tables.postgres(postgres);
            new JdbcSchema(tables).ensure(c, createSchema);
            LOG.info("Store '{}': {} {} tables {}*{}; keeps up to {} connections of its own from {}", name,
                    md.getDatabaseProductName(), md.getDatabaseProductVersion(), prefix,
                    postgres && syncPolicy != SyncPolicy.ALWAYS ? " (spool commits with synchronous_commit=off)"
                            : "", IDLE_CONNECTIONS + appendLanes + 1, dataSource.getClass().getName());
        } catch (SQLException e) {
            throw new IOException("Store '" + name + "': cannot use the database: " + e.getMessage(), e);
        }
        spool = new JdbcSpool(tables, segmentRows, requestRows, connections, syncPolicy != SyncPolicy.ALWAYS,
                appendLanes);
        checkpoints = new JdbcCheckpoints(tables,
                connections.held("checkpoint", JdbcConnections.Session.asynchronousCommit(postgres)), checkpointEvery);
        started = true;
    }

    // ---------------------------------------------------------------- helpers

    private boolean asyncSpool() {
        return tables.postgres() && syncPolicy != SyncPolicy.ALWAYS;
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
            throw tx.failure(e);
        }
    }

    // ---------------------------------------------------------------- reads

    @Override
    public boolean containsCustomId(String customId) {
        ensureOpen();
        try {
            return tx.autoCommitted(c -> !requestRows.liveIds(c, List.of(customId)).isEmpty());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<SegmentInfo> segments() {
        ensureOpen();
        try {
            flushCheckpoints();
            return tx.autoCommitted(c -> {
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
                    leases.retainSeen(seen);
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
            return tx.autoCommitted(c -> readSegment(c, id, false));
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
        SegmentLifecycle.restore(s, SegmentStatus.valueOf(rs.getString(3)));
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
        leases.seen(s.getId(), noLease ? null : owner, left);
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
        List<SegmentInfo> candidates = tx.autoCommitted(c -> {
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
        return tx.inTx(asyncSpool(), c -> {
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
        String owner = leases.owner();
        int n = tx.autoCommitted(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + segmentsTable + " SET status = ?,"
                                                           + " open_slot = NULL, attempt = ?, parent_id = ?,"
                                                           + " request_count = ?, bytes = ?, tokens = ?, state = ?,"
                                                           + " emitted_output = GREATEST(emitted_output, ?),"
                                                           + " emitted_errors = GREATEST(emitted_errors, ?),"
                                                           + " emitted_synthetic = GREATEST(emitted_synthetic, ?),"
                                                           + " updated_at = ? WHERE id = ? AND name = ?"
                                                           + " AND status NOT IN ('OPEN', 'STAGING')"
                                                           + JdbcLeases.fence(owner))) {
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
            leases.refused(segment.getId(), owner, true);
        }
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
        String owner = leases.owner();
        tx.inTx(false, c -> {
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
        try (OutputStream out = new BufferedOutputStream(PrivateFiles.openEmpty(file), 1 << 16)) {
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
        tx.readInTx(c -> {
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
        return tx.readInTx(c -> {
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

    // ---------------------------------------------------------------- emission

    @Override
    public void checkpoint(String segmentId, long output, long errors, long synthetic) throws IOException {
        ensureOpen();
        String owner = leases.owner();
        boolean written;
        try {
            written = checkpoints.checkpoint(segmentId, output, errors, synthetic, owner);
        } catch (SQLException e) {
            throw tx.failure(e);
        }
        if (!written) {
            leases.refused(segmentId, owner, false);
        }
    }

    /** Writes the checkpoints held back ({@link JdbcCheckpoints}) before a segment is read or changed. */
    private void flushCheckpoints() throws IOException {
        JdbcCheckpoints c = checkpoints;
        if (c != null) {
            try {
                c.flush();
            } catch (SQLException e) {
                throw tx.failure(e);
            }
        }
    }

    @Override
    public void complete(SegmentInfo segment) throws IOException {
        ensureOpen();
        flushCheckpoints();
        String owner = leases.owner();
        SegmentInfo s = segment.copy();
        SegmentLifecycle.move(s, SegmentStatus.DONE);
        // 1 = completed now, 0 = completed before (by this node before a failure to answer, or by another), -1 = the
        // lease is another node's
        int outcome = tx.inTx(false, c -> {
            SegmentInfo latest = readSegment(c, s.getId(), true);
            if (latest == null) {
                return 0;
            }
            s.setEmittedOutput(Math.max(s.getEmittedOutput(), latest.getEmittedOutput()));
            s.setEmittedErrors(Math.max(s.getEmittedErrors(), latest.getEmittedErrors()));
            s.setEmittedSynthetic(Math.max(s.getEmittedSynthetic(), latest.getEmittedSynthetic()));
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + segmentsTable + " WHERE id = ?"
                                                           + JdbcLeases.fence(owner))) {
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
            history.record(c, s);
            return 1;
        });
        if (outcome < 0) {
            leases.refused(s.getId(), owner, false);
        }
        leases.forget(s.getId());
        if (outcome > 0) {
            history.completed();
        }
    }

    @Override
    public List<SegmentInfo> history(int max) {
        ensureOpen();
        try {
            return history.read(max);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- leases

    @Override
    public boolean supportsLeases() {
        return true;
    }

    @Override
    public boolean tryClaim(String segmentId, String owner, long leaseMillis) throws IOException {
        ensureOpen();
        return leases.tryClaim(segmentId, owner, leaseMillis);
    }

    @Override
    public Set<String> renewLeases(String owner, long leaseMillis) throws IOException {
        ensureOpen();
        return leases.renew(owner, leaseMillis);
    }

    @Override
    public void releaseLease(String segmentId, String owner) throws IOException {
        ensureOpen();
        flushCheckpoints();
        leases.release(segmentId, owner);
    }

    @Override
    public void releaseLeases(String owner) throws IOException {
        if (closed) {
            return;
        }
        flushCheckpoints();
        leases.releaseAll(owner);
    }

    /** Lease holders by segment id, for diagnostics and tests: {@code owner} or {@code null}. */
    public Map<String, String> leaseHolders() throws IOException {
        ensureOpen();
        return leases.holders();
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
        leases.forget();
        JdbcSpool sp = spool;
        if (sp != null) {
            sp.close();
        }
        connections.close();
    }
}
