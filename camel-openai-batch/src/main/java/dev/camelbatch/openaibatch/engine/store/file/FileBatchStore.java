package dev.camelbatch.openaibatch.engine.store.file;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.io.BoundedInputStream;
import dev.camelbatch.openaibatch.engine.io.PrivateFiles;
import dev.camelbatch.openaibatch.engine.lines.CustomIdSet;
import dev.camelbatch.openaibatch.engine.lines.LineReader;
import dev.camelbatch.openaibatch.engine.lines.LongHashSet;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.Names;
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
 * The embedded store: one directory per endpoint name, for one JVM at a time (an exclusive file lock guards it; use
 * a JDBC store for several nodes).
 *
 * <pre>
 * &lt;directory&gt;/&lt;name&gt;/
 *   store.lock                 held while a JVM uses the store
 *   segments/&lt;id&gt;.state.json   segment state, replaced atomically (write, fsync, rename)
 *   segments/&lt;id&gt;.jsonl        the request lines, exactly the file that is uploaded
 *   segments/&lt;id&gt;.carry.jsonl  carried headers of the requests that have any (never uploaded)
 *   segments/&lt;id&gt;.ckpt         emission checkpoint (3 longs, rewritten in place)
 *   history.jsonl              compact records of finished segments
 * </pre>
 *
 * Files and directories are created readable by the owner only (where the file system supports POSIX
 * permissions). A request line is in the operating system when {@link #append} returns: the data and carry files of
 * an open segment are written through a memory mapping on Linux unless turned off (no system call per request, see
 * {@link AppendFile};
 * until the segment is sealed such a file ends with zero bytes), with one {@code write} call per request elsewhere.
 * When the store starts, the data of an open segment's file ends at its last complete line before any zero byte: a
 * torn last line left by a crash is cut off, and so is the zero-filled tail of a mapped file.
 * <p>
 * State files ({@link FileStateWriter}), emission checkpoints ({@link FileCheckpoints}), the history
 * ({@link FileHistory}) and the background fsync ({@link GroupCommit}) are classes of their own. Why the rest is one
 * long class: appending, document staging, sealing, recovery and completion all read and change the same four
 * things under one lock (the index of segments, the open segment of each endpoint and model, the open files and the
 * set of live custom ids), and a segment's files are only consistent with that index inside the lock. Splitting
 * those parts would pass the four structures and the lock between classes, or expose them, to move code that is
 * only correct as one critical section.
 */
public class FileBatchStore implements BatchStore {

    private static final Logger LOG = LoggerFactory.getLogger(FileBatchStore.class);
    private static final byte NEWLINE = '\n';

    private final String name;
    private final Path dir;
    private final Path segmentsDir;
    private final SyncPolicy syncPolicy;
    private final boolean mapped;
    private final long syncIntervalMillis;
    private final ObjectMapper mapper;

    private final Object lock = new Object();
    private final Map<String, SegmentInfo> segments = new LinkedHashMap<>();
    /** Open segment id by group key (endpoint + model). */
    private final Map<String, String> openByGroup = new HashMap<>();
    private final Map<String, OpenFiles> openFiles = new HashMap<>();
    private final LongHashSet customIds = new LongHashSet(1024);
    private final FileHistory history;
    private final Set<AppendFile> dirty = ConcurrentHashMap.newKeySet();
    private final FileCheckpoints checkpoints;
    private final FileStateWriter states;
    private final GroupCommit groupCommit = new GroupCommit(this::syncDirty);

    /** Forces a directory's entries (names created or renamed in it) to disk. */
    @FunctionalInterface
    interface DirectorySync {
        void sync(Path dir);
    }

    /**
     * Opens the directory for reading and forces it (Linux and other POSIX systems); does nothing where a directory
     * cannot be opened or forced (Windows).
     */
    static final DirectorySync FSYNC_DIRECTORY = dir -> {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // directories cannot be opened or forced on this system
        }
    };

    private DirectorySync directorySync = FSYNC_DIRECTORY;
    private FileChannel lockChannel;
    private FileLock fileLock;
    private ScheduledExecutorService syncer;
    private boolean closed;

    public FileBatchStore(Path baseDirectory, String name, SyncPolicy syncPolicy,
                          long syncIntervalMillis, ObjectMapper mapper) {
        this(baseDirectory, name, syncPolicy, syncIntervalMillis, true, mapper);
    }

    /**
     * @param mapped write open segments through memory mappings where the platform allows it (Linux), else with one
     *               {@code write} call per request
     */
    public FileBatchStore(Path baseDirectory, String name, SyncPolicy syncPolicy,
                          long syncIntervalMillis, boolean mapped, ObjectMapper mapper) {
        this.mapped = mapped;
        this.name = name;
        this.dir = baseDirectory.resolve(Names.safe(name));
        this.segmentsDir = dir.resolve("segments");
        this.syncPolicy = syncPolicy;
        this.syncIntervalMillis = syncIntervalMillis;
        this.mapper = mapper;
        this.history = new FileHistory(dir, mapper);
        this.checkpoints = new FileCheckpoints(segmentsDir);
        this.states = new FileStateWriter(segmentsDir, syncPolicy, mapper, lock, this::syncDirectoryIfAlways);
    }

    public Path directory() {
        return dir;
    }

    /** Replaces how directories are forced to disk (tests count the syncs); call before {@link #start()}. */
    void directorySync(DirectorySync sync) {
        this.directorySync = sync;
    }

    @Override
    public String name() {
        return name;
    }

    /** Opens the directory, takes the lock and recovers every segment. */
    public void start() throws IOException {
        // the store directory is owner-only whether it was created here or not
        PrivateFiles.createDirectories(segmentsDir);
        PrivateFiles.restrict(dir);
        lockChannel = FileChannel.open(dir.resolve("store.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            fileLock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            fileLock = null;
        }
        if (fileLock == null) {
            lockChannel.close();
            throw new IOException("The store directory " + dir + " is in use by another process (or another store"
                                  + " instance in this JVM). The file store serves one JVM at a time; use a JDBC"
                                  + " store for several nodes.");
        }
        recover();
        if (syncPolicy == SyncPolicy.INTERVAL) {
            syncer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "openai-batch-sync-" + name);
                t.setDaemon(true);
                return t;
            });
            syncer.scheduleWithFixedDelay(this::syncDirtyQuietly, syncIntervalMillis, syncIntervalMillis,
                    TimeUnit.MILLISECONDS);
        }
    }

    private void recover() throws IOException {
        List<SegmentInfo> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(segmentsDir, "*.state.json")) {
            for (Path p : ds) {
                try {
                    found.add(mapper.readValue(p.toFile(), SegmentInfo.class));
                } catch (IOException e) {
                    throw new IOException("Cannot read segment state " + p + ": " + e.getMessage(), e);
                }
            }
        }
        // data files without a state: a segment whose creation was interrupted (never acknowledged)
        java.util.Set<String> known = new java.util.HashSet<>();
        for (SegmentInfo s : found) {
            known.add(s.getId());
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(segmentsDir, "*.jsonl")) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                String id = f.substring(0, f.indexOf('.'));
                if (!known.contains(id)) {
                    LOG.warn("Store '{}': deleting {}, left by an interrupted segment creation", name, f);
                    Files.deleteIfExists(p);
                }
            }
        }
        // leftovers of an interrupted state write
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(segmentsDir, "*.tmp")) {
            for (Path p : ds) {
                Files.deleteIfExists(p);
            }
        }
        found.sort(Comparator.comparingLong(SegmentInfo::getCreatedAt).thenComparing(SegmentInfo::getId));
        int requests = 0;
        for (SegmentInfo s : found) {
            if (s.getStatus() == SegmentStatus.DONE || s.getStatus() == SegmentStatus.STAGING) {
                // DONE: finished, files left by a crash; STAGING: a document that was never acknowledged
                deleteSegmentFiles(s.getId());
                continue;
            }
            Path data = dataFile(s.getId());
            if (!Files.exists(data)) {
                Files.createFile(data);
            }
            long[] countAndBytes = recoverDataFile(data, s.getStatus() == SegmentStatus.OPEN);
            if (s.getStatus() == SegmentStatus.OPEN) {
                s.setRequestCount((int) countAndBytes[0]);
                s.setBytes(countAndBytes[1]);
                s.setTokens(Math.max(s.getTokens(), countAndBytes[1] / 4));
                String previous = openByGroup.put(groupKey(s.getEndpoint(), s.getModel()), s.getId());
                if (previous != null) {
                    // a crash after a seal but before its state reached the disk: the older one was being sealed
                    SegmentInfo older = segments.get(previous);
                    SegmentLifecycle.seal(older, SealReason.RECOVERED, System.currentTimeMillis());
                    states.write(older);
                }
            }
            if (Files.exists(carryFile(s.getId()))) {
                // an open segment's is appended to (a torn entry would swallow the next one); any segment's may end
                // with the zeros of its mapping after a power loss
                recoverDataFile(carryFile(s.getId()), true);
            }
            readRequests(s.getId(), line -> customIds.add(idHash(line)));
            requests += s.getRequestCount();
            long[] ckpt = checkpoints.read(s.getId());
            if (ckpt != null) {
                s.setEmittedOutput(Math.max(s.getEmittedOutput(), ckpt[0]));
                s.setEmittedErrors(Math.max(s.getEmittedErrors(), ckpt[1]));
                s.setEmittedSynthetic(Math.max(s.getEmittedSynthetic(), ckpt[2]));
            }
            segments.put(s.getId(), s);
        }
        history.load();
        if (!found.isEmpty()) {
            LOG.info("Store '{}' at {}: recovered {} segments holding {} requests", name, dir, segments.size(),
                    requests);
        }
    }

    /**
     * Counts the complete lines of a data file; cuts off a torn last line of an open segment (a write that a crash
     * interrupted, never acknowledged to a producer).
     */
    private long[] recoverDataFile(Path data, boolean open) throws IOException {
        long count = 0;
        long lastNewlineEnd = 0;
        long pos = 0;
        long firstZero = -1;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(data), 1 << 16)) {
            byte[] buf = new byte[1 << 16];
            int n;
            scan:
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == NEWLINE) {
                        count++;
                        lastNewlineEnd = pos + i + 1;
                    } else if (buf[i] == 0) {
                        // the zero-filled tail of a mapped file: no line goes on beyond it
                        firstZero = pos + i;
                        break scan;
                    }
                }
                pos += n;
            }
        }
        long size = Files.size(data);
        if (lastNewlineEnd < size) {
            boolean tornLine = (firstZero >= 0 ? firstZero : size) > lastNewlineEnd;
            if (open || !tornLine) {
                if (tornLine) {
                    LOG.warn("Store '{}': cutting off a torn last line of {} ({} bytes, never acknowledged)", name,
                            data.getFileName(), (firstZero >= 0 ? firstZero : size) - lastNewlineEnd);
                } else {
                    LOG.debug("Store '{}': cutting the zero-filled tail of {} at {} bytes", name, data.getFileName(),
                            lastNewlineEnd);
                }
                try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
                    ch.truncate(lastNewlineEnd);
                    ch.force(true);
                }
            } else {
                throw new IOException("Sealed segment file " + data + " ends with an incomplete line");
            }
        }
        return new long[] { count, lastNewlineEnd };
    }

    @Override
    public List<String> append(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits)
            throws IOException {
        if (records.isEmpty()) {
            return List.of();
        }
        List<String> sealed = new ArrayList<>(1);
        try {
            synchronized (lock) {
                ensureOpen();
                checkDuplicates(records);
                String group = groupKey(endpoint, model);
                SegmentInfo seg = null;
                OpenFiles files = null;
                ByteBuffer batch = null;
                for (SpoolRecord r : records) {
                    int lineBytes = r.line().length;
                    if (seg == null) {
                        seg = openSegment(group, endpoint, model, limits);
                        files = usableFiles(seg.getId());
                    }
                    if (seg.getRequestCount() > 0 && limits.wouldOverflow(seg.getRequestCount(), seg.getBytes(),
                            seg.getTokens(), lineBytes, r.tokens())) {
                        flush(files, batch);
                        batch = null;
                        sealed.add(sealLocked(seg, sealReason(limits, seg, lineBytes)));
                        seg = openSegment(group, endpoint, model, limits);
                        files = usableFiles(seg.getId());
                    }
                    if (r.carriedHeaders() != null) {
                        if (files.carry == null) {
                            files.carry = openAppend(carryFile(files.segmentId));
                        }
                        writeCarry(files.carry, r);
                    }
                    if (records.size() == 1) {
                        files.data.appendLine(r.line());
                    } else {
                        if (batch == null || batch.remaining() < lineBytes + 1) {
                            flush(files, batch);
                            batch = ByteBuffer.allocate(Math.max(1 << 16, lineBytes + 1));
                        }
                        batch.put(r.line()).put(NEWLINE);
                    }
                    seg.setRequestCount(seg.getRequestCount() + 1);
                    seg.setBytes(seg.getBytes() + lineBytes + 1);
                    seg.setTokens(seg.getTokens() + r.tokens());
                    customIds.add(hash(r.customId()));
                    dirty.add(files.data);
                    if (files.carry != null) {
                        dirty.add(files.carry);
                    }
                    if (limits.isFull(seg.getRequestCount(), seg.getBytes(), seg.getTokens())) {
                        flush(files, batch);
                        batch = null;
                        try {
                            sealed.add(sealLocked(seg, sealReason(limits, seg, 0)));
                        } catch (IOException e) {
                            // the request is stored: failing its exchange now would have it sent twice; the full
                            // segment stays open and the next request (or the batch timeout) seals it
                            LOG.warn("Store '{}': cannot seal the full segment {} now ({}); it stays open", name,
                                    seg.getId(), e.toString());
                        }
                        seg = null;
                        files = null;
                    }
                }
                if (files != null) {
                    flush(files, batch);
                }
            }
        } finally {
            states.runDeferred();
        }
        if (syncPolicy == SyncPolicy.ALWAYS) {
            groupCommit.sync();
        }
        return sealed;
    }

    private void checkDuplicates(List<SpoolRecord> records) {
        if (records.size() == 1) {
            String id = records.get(0).customId();
            if (customIds.contains(hash(id))) {
                throw new DuplicateCustomIdException(name, id, null);
            }
            return;
        }
        LongHashSet within = new LongHashSet(records.size());
        for (int i = 0; i < records.size(); i++) {
            String id = records.get(i).customId();
            long h = hash(id);
            if (customIds.contains(h)) {
                throw new DuplicateCustomIdException(name, id, "line " + (i + 1));
            }
            if (!within.add(h)) {
                throw new DuplicateCustomIdException(name, id, "line " + (i + 1) + " repeats an earlier line");
            }
        }
    }

    private static SealReason sealReason(SegmentLimits limits, SegmentInfo seg, int nextBytes) {
        return SealReason.limitReached(limits, seg.getRequestCount(), seg.getBytes(), nextBytes);
    }

    private void writeCarry(AppendFile carry, SpoolRecord r) throws IOException {
        // {"c":"<id>","h":{...}}
        byte[] id = mapper.writeValueAsBytes(r.customId());
        ByteBuffer b = ByteBuffer.allocate(id.length + r.carriedHeaders().length + 12);
        b.put("{\"c\":".getBytes(StandardCharsets.US_ASCII)).put(id).put(",\"h\":".getBytes(StandardCharsets.US_ASCII))
                .put(r.carriedHeaders()).put((byte) '}').put(NEWLINE).flip();
        carry.append(b);
    }

    private static void flush(OpenFiles files, ByteBuffer batch) throws IOException {
        if (batch != null && batch.position() > 0) {
            batch.flip();
            files.data.append(batch);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private SegmentInfo openSegment(String group, String endpoint, String model, SegmentLimits limits)
            throws IOException {
        String id = openByGroup.get(group);
        if (id != null) {
            return segments.get(id);
        }
        SegmentInfo s = SegmentInfo.create(name, endpoint, model, SegmentStatus.OPEN, System.currentTimeMillis());
        s.setMaxAgeMillis(limits.maxAgeMillis());
        // written at once, even under the lock: the state must exist before the first line of its data file
        // (a new segment is rare: one fsync per segment, and under ALWAYS two of the directory, see openAppend)
        states.writeNow(s);
        segments.put(s.getId(), s);
        openByGroup.put(group, s.getId());
        LOG.debug("Store '{}': opened segment {} for {} {}", name, s.getId(), endpoint, model);
        return s;
    }

    /**
     * The open files of a segment, opened again when an interrupted thread's channel operation closed a channel under
     * us (at the length appended: nothing beyond was acknowledged).
     */
    private OpenFiles usableFiles(String segmentId) throws IOException {
        OpenFiles f = openFiles(segmentId);
        boolean dataBroken = f.data.broken();
        boolean carryBroken = f.carry != null && f.carry.broken();
        if (!dataBroken && !carryBroken) {
            return f;
        }
        LOG.warn("Store '{}': a file of segment {} was closed under the store (an interrupted thread);"
                 + " opening it again", name, segmentId);
        OpenFiles again = new OpenFiles(segmentId, dataBroken ? AppendFile.reopen(f.data) : f.data);
        again.carry = carryBroken ? AppendFile.reopen(f.carry) : f.carry;
        if (dirty.remove(f.data)) {
            dirty.add(again.data);
        }
        if (f.carry != null && dirty.remove(f.carry)) {
            dirty.add(again.carry);
        }
        openFiles.put(segmentId, again);
        return again;
    }

    private OpenFiles openFiles(String segmentId) throws IOException {
        OpenFiles f = openFiles.get(segmentId);
        if (f == null) {
            f = new OpenFiles(segmentId, openAppend(dataFile(segmentId)));
            if (Files.exists(carryFile(segmentId))) {
                f.carry = openAppend(carryFile(segmentId));
            }
            openFiles.put(segmentId, f);
        }
        return f;
    }

    /** Opens an open segment's file for appends (mapped where the platform allows it). */
    private AppendFile openAppend(Path p) throws IOException {
        if (!Files.exists(p)) {
            PrivateFiles.createFile(p);
            syncDirectoryIfAlways(p.getParent());
        }
        return AppendFile.open(p, mapped);
    }

    /**
     * Under {@link SyncPolicy#ALWAYS}, forces a directory after a name was created or renamed in it: the file's data
     * reaching the disk does not make its name durable.
     */
    private void syncDirectoryIfAlways(Path directory) {
        if (syncPolicy == SyncPolicy.ALWAYS) {
            directorySync.sync(directory);
        }
    }

    @Override
    public DocumentAppender beginDocument(String endpoint, SegmentLimits limits) {
        synchronized (lock) {
            ensureOpen();
        }
        return new FileDocumentAppender(endpoint, limits);
    }

    /** Writes a document into STAGING segments of its own; commit turns them into sealed (or open) segments. */
    private final class FileDocumentAppender implements DocumentAppender {
        private final String endpoint;
        private final SegmentLimits limits;
        private final LongHashSet ids = new LongHashSet(1024);
        private final Map<String, StagingSegment> current = new HashMap<>();
        private final List<StagingSegment> all = new ArrayList<>();
        private boolean committed;

        FileDocumentAppender(String endpoint, SegmentLimits limits) {
            this.endpoint = endpoint;
            this.limits = limits;
        }

        @Override
        public void add(String model, SpoolRecord r) throws IOException {
            long h = hash(r.customId());
            if (!ids.add(h)) {
                throw new DuplicateCustomIdException(name, r.customId(), "it repeats an earlier line of the document");
            }
            synchronized (lock) {
                // reserved at once, so that a request with this id arriving before the commit is refused
                if (!customIds.add(h)) {
                    ids.remove(h);
                    throw new DuplicateCustomIdException(name, r.customId(), null);
                }
            }
            StagingSegment st = current.get(model);
            int lineBytes = r.line().length;
            if (st != null && st.info.getRequestCount() > 0 && limits.wouldOverflow(st.info.getRequestCount(),
                    st.info.getBytes(), st.info.getTokens(), lineBytes, r.tokens())) {
                st.finish(sealReason(limits, st.info, lineBytes));
                st = null;
            }
            if (st == null) {
                st = new StagingSegment(endpoint, model, limits.maxAgeMillis());
                current.put(model, st);
                all.add(st);
            }
            st.add(r);
        }

        @Override
        public List<String> commit(boolean seal) throws IOException {
            List<String> sealed = new ArrayList<>();
            for (StagingSegment st : all) {
                st.flushAndClose();
            }
            try {
                synchronized (lock) {
                    ensureOpen();
                    for (StagingSegment st : all) {
                        SegmentInfo s = st.info;
                        String group = groupKey(s.getEndpoint(), s.getModel());
                        boolean last = current.get(s.getModel()) == st && st.sealReason == null;
                        if (last && !seal && !openByGroup.containsKey(group)
                                && !limits.isFull(s.getRequestCount(), s.getBytes(), s.getTokens())) {
                            SegmentLifecycle.move(s, SegmentStatus.OPEN);
                            states.write(s);
                            openByGroup.put(group, s.getId());
                        } else {
                            SegmentLifecycle.seal(s, SealReason.atCommit(st.sealReason, seal),
                                    System.currentTimeMillis());
                            states.write(s);
                            sealed.add(s.getId());
                        }
                        segments.put(s.getId(), s);
                    }
                    committed = true;
                }
            } finally {
                states.runDeferred();
            }
            return sealed;
        }

        @Override
        public List<SegmentInfo> commitPrepared(Consumer<SegmentInfo> prepare) throws IOException {
            List<SegmentInfo> out = new ArrayList<>();
            for (StagingSegment st : all) {
                st.flushAndClose();
            }
            try {
                synchronized (lock) {
                    ensureOpen();
                    for (StagingSegment st : all) {
                        SegmentInfo s = st.info;
                        SegmentLifecycle.seal(s, SealReason.atCommit(st.sealReason, false), System.currentTimeMillis());
                        prepare.accept(s);
                        if (s.getStatus() == SegmentStatus.OPEN || s.getStatus() == SegmentStatus.STAGING) {
                            throw new IllegalStateException("a prepared segment must be sealed or later, was "
                                                            + s.getStatus());
                        }
                    }
                    for (StagingSegment st : all) {
                        SegmentInfo s = st.info;
                        states.write(s);
                        segments.put(s.getId(), s);
                        out.add(s.copy());
                    }
                    committed = true;
                }
            } finally {
                states.runDeferred();
            }
            return out;
        }

        @Override
        public void close() {
            if (committed) {
                return;
            }
            for (StagingSegment st : all) {
                st.discard();
            }
            synchronized (lock) {
                ids.forEach(customIds::remove);
            }
        }
    }

    private final class StagingSegment {
        final SegmentInfo info;
        final FileChannel data;
        AppendFile carry;
        final ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        SealReason sealReason;

        StagingSegment(String endpoint, String model, long maxAgeMillis) throws IOException {
            info = SegmentInfo.create(name, endpoint, model, SegmentStatus.STAGING, System.currentTimeMillis());
            info.setMaxAgeMillis(maxAgeMillis);
            // the STAGING state first: a crash before the commit leaves files that the next start deletes
            states.write(info);
            PrivateFiles.createFile(dataFile(info.getId()));
            data = FileChannel.open(dataFile(info.getId()), StandardOpenOption.WRITE);
        }

        void add(SpoolRecord r) throws IOException {
            if (r.carriedHeaders() != null) {
                if (carry == null) {
                    carry = openAppend(carryFile(info.getId()));
                }
                writeCarry(carry, r);
            }
            int len = r.line().length + 1;
            if (buffer.remaining() < len) {
                drain();
            }
            if (len > buffer.capacity()) {
                ByteBuffer big = ByteBuffer.allocate(len);
                big.put(r.line()).put(NEWLINE).flip();
                writeFully(data, big);
            } else {
                buffer.put(r.line()).put(NEWLINE);
            }
            info.setRequestCount(info.getRequestCount() + 1);
            info.setBytes(info.getBytes() + len);
            info.setTokens(info.getTokens() + r.tokens());
        }

        private void drain() throws IOException {
            buffer.flip();
            writeFully(data, buffer);
            buffer.clear();
        }

        void finish(SealReason reason) throws IOException {
            sealReason = reason;
            flushAndClose();
        }

        void flushAndClose() throws IOException {
            if (!data.isOpen()) {
                return;
            }
            drain();
            if (carry != null) {
                carry.finish();
            }
            if (syncPolicy != SyncPolicy.NEVER) {
                data.force(false);
                if (carry != null) {
                    carry.force();
                }
            }
            data.close();
            if (carry != null) {
                carry.close();
            }
        }

        void discard() {
            try {
                if (data.isOpen()) {
                    data.close();
                }
                if (carry != null && carry.channel.isOpen()) {
                    carry.close();
                }
                deleteSegmentFiles(info.getId());
            } catch (IOException e) {
                LOG.warn("Store '{}': cannot drop staged segment {}: {}", name, info.getId(), e.getMessage());
            }
        }
    }

    @Override
    public boolean containsCustomId(String customId) {
        synchronized (lock) {
            return customIds.contains(hash(customId));
        }
    }

    @Override
    public List<SegmentInfo> segments() {
        synchronized (lock) {
            List<SegmentInfo> list = new ArrayList<>(segments.size());
            for (SegmentInfo s : segments.values()) {
                list.add(s.copy());
            }
            return list;
        }
    }

    @Override
    public SegmentInfo segment(String id) {
        synchronized (lock) {
            SegmentInfo s = segments.get(id);
            return s != null ? s.copy() : null;
        }
    }

    @Override
    public List<String> sealOpen(Predicate<SegmentInfo> filter, SealReason reason) throws IOException {
        List<String> ids = new ArrayList<>();
        try {
            synchronized (lock) {
                ensureOpen();
                for (String id : new ArrayList<>(openByGroup.values())) {
                    SegmentInfo s = segments.get(id);
                    if (s != null && s.getRequestCount() > 0 && filter.test(s)) {
                        ids.add(sealLocked(s, reason));
                    }
                }
            }
        } finally {
            states.runDeferred();
        }
        return ids;
    }

    private String sealLocked(SegmentInfo s, SealReason reason) throws IOException {
        OpenFiles f = openFiles.containsKey(s.getId()) ? usableFiles(s.getId()) : null;
        if (f != null) {
            // cut to its data (a mapped file runs on with zeros) before anyone can see the segment sealed; a failure
            // here leaves the segment open with its files, and a later seal tries again
            f.data.finish();
            if (f.carry != null) {
                f.carry.finish();
            }
            openFiles.remove(s.getId());
            dirty.remove(f.data);
            if (f.carry != null) {
                dirty.remove(f.carry);
            }
            // the data reaches the disk before the SEALED state does (both after the lock is released)
            states.defer(() -> {
                if (syncPolicy != SyncPolicy.NEVER) {
                    f.data.force();
                    if (f.carry != null) {
                        f.carry.force();
                    }
                }
                f.data.close();
                if (f.carry != null) {
                    f.carry.close();
                }
            });
        }
        openByGroup.remove(groupKey(s.getEndpoint(), s.getModel()));
        SegmentLifecycle.seal(s, reason, System.currentTimeMillis());
        states.write(s);
        LOG.debug("Store '{}': sealed {} ({} requests, {} bytes) by {}", name, s.getId(), s.getRequestCount(),
                s.getBytes(), reason);
        return s.getId();
    }

    @Override
    public void update(SegmentInfo segment) throws IOException {
        try {
            synchronized (lock) {
                ensureOpen();
                SegmentInfo current = segments.get(segment.getId());
                if (current == null) {
                    throw new IllegalStateException("Unknown segment " + segment.getId());
                }
                if (current.getStatus() == SegmentStatus.OPEN) {
                    throw new IllegalStateException("Segment " + segment.getId() + " is open; seal it first");
                }
                SegmentInfo copy = segment.copy();
                states.write(copy);
                segments.put(copy.getId(), copy);
            }
        } finally {
            states.runDeferred();
        }
    }

    @Override
    public SegmentInfo createSealedSegment(String endpoint, String model, int attempt, String parentId,
                                           List<SpoolRecord> records) throws IOException {
        try {
            synchronized (lock) {
                ensureOpen();
                SegmentInfo s = SegmentInfo.create(name, endpoint, model, SegmentStatus.SEALED,
                        System.currentTimeMillis());
                s.setAttempt(attempt);
                s.setParentId(parentId);
                // data first, then the state that makes it visible: a crash in between leaves only an unreferenced file
                Path tmpData = segmentsDir.resolve(s.getId() + ".jsonl.tmp");
                Path tmpCarry = segmentsDir.resolve(s.getId() + ".carry.jsonl.tmp");
                long bytes = 0;
                long tokens = 0;
                try (FileChannel data = FileChannel.open(tmpData, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE)) {
                    AppendFile carry = null;
                    for (SpoolRecord r : records) {
                        ByteBuffer b = ByteBuffer.allocate(r.line().length + 1);
                        b.put(r.line()).put(NEWLINE).flip();
                        writeFully(data, b);
                        bytes += r.line().length + 1;
                        tokens += r.tokens();
                        if (r.carriedHeaders() != null) {
                            if (carry == null) {
                                Files.createFile(tmpCarry);
                                carry = AppendFile.open(tmpCarry, false);
                            }
                            writeCarry(carry, r);
                        }
                    }
                    if (syncPolicy != SyncPolicy.NEVER) {
                        data.force(false);
                    }
                    if (carry != null) {
                        if (syncPolicy != SyncPolicy.NEVER) {
                            carry.force();
                        }
                        carry.close();
                    }
                }
                PrivateFiles.restrict(tmpData);
                FileStateWriter.replace(tmpData, dataFile(s.getId()));
                if (Files.exists(tmpCarry)) {
                    PrivateFiles.restrict(tmpCarry);
                    FileStateWriter.replace(tmpCarry, carryFile(s.getId()));
                }
                s.setRequestCount(records.size());
                s.setBytes(bytes);
                s.setTokens(tokens);
                s.setSealedAt(System.currentTimeMillis());
                s.sealedBy(SealReason.RETRY);
                states.write(s);
                segments.put(s.getId(), s);
                for (SpoolRecord r : records) {
                    customIds.add(hash(r.customId()));
                }
                return s.copy();
            }
        } finally {
            states.runDeferred();
        }
    }

    @Override
    public Path uploadFile(String segmentId) {
        return dataFile(segmentId);
    }

    @Override
    public void releaseUploadFile(String segmentId, Path file) {
        // the segment file itself: nothing to release
    }

    @Override
    public void readRequests(String segmentId, Consumer<byte[]> lineConsumer) throws IOException {
        Path data = dataFile(segmentId);
        if (!Files.exists(data)) {
            return;
        }
        try (InputStream in = readAppended(segmentId, data, false)) {
            LineReader.forEachLine(in, 1 << 16, SegmentLimits.HARD_MAX_BYTES, lineConsumer);
        }
    }

    /**
     * Reads a segment file; the file of an open segment up to the bytes appended so far (a mapped file runs on with
     * zeros, and a line being appended is left out).
     */
    private InputStream readAppended(String segmentId, Path file, boolean carry) throws IOException {
        long limit = Long.MAX_VALUE;
        synchronized (lock) {
            OpenFiles f = openFiles.get(segmentId);
            if (f != null) {
                limit = carry ? (f.carry != null ? f.carry.length() : 0) : f.data.length();
            }
        }
        InputStream in = Files.newInputStream(file);
        return limit == Long.MAX_VALUE ? in : new BoundedInputStream(in, limit);
    }

    @Override
    public Map<String, byte[]> carriedHeaders(String segmentId) throws IOException {
        Path carry = carryFile(segmentId);
        Map<String, byte[]> map = new HashMap<>();
        if (!Files.exists(carry)) {
            return map;
        }
        try (InputStream in = readAppended(segmentId, carry, true)) {
            LineReader.forEachLine(in, 1 << 16, SegmentLimits.HARD_MAX_BYTES, line -> {
                try (JsonParser p = mapper.getFactory().createParser(line)) {
                    String id = null;
                    byte[] headers = null;
                    if (p.nextToken() != JsonToken.START_OBJECT) {
                        return;
                    }
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        p.nextToken();
                        if ("c".equals(f)) {
                            id = p.getText();
                        } else if ("h".equals(f)) {
                            headers = mapper.writeValueAsBytes(mapper.readTree(p));
                        } else {
                            p.skipChildren();
                        }
                    }
                    if (id != null && headers != null) {
                        map.put(id, headers);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return map;
    }

    @Override
    public void checkpoint(String segmentId, long output, long errors, long synthetic) throws IOException {
        synchronized (lock) {
            ensureOpen();
            SegmentInfo s = segments.get(segmentId);
            if (s == null) {
                throw new IllegalStateException("Unknown segment " + segmentId);
            }
            s.setEmittedOutput(output);
            s.setEmittedErrors(errors);
            s.setEmittedSynthetic(synthetic);
            checkpoints.write(segmentId, output, errors, synthetic);
        }
    }

    @Override
    public void complete(SegmentInfo segment) throws IOException {
        SegmentInfo s = segment.copy();
        SegmentLifecycle.move(s, SegmentStatus.DONE);
        // the ids are read without the lock (a segment file can be 200 MB); requests resubmitted in a child
        // segment keep their ids reserved
        long[][] ids = { new long[Math.max(16, s.getRequestCount())] };
        int[] count = { 0 };
        readRequests(s.getId(), line -> {
            if (count[0] == ids[0].length) {
                ids[0] = java.util.Arrays.copyOf(ids[0], count[0] * 2);
            }
            ids[0][count[0]++] = idHash(line);
        });
        LongHashSet keep = new LongHashSet(16);
        for (SegmentInfo child : segments()) {
            if (s.getId().equals(child.getParentId())) {
                readRequests(child.getId(), line -> keep.add(idHash(line)));
            }
        }
        synchronized (lock) {
            ensureOpen();
            for (int i = 0; i < count[0]; i++) {
                long h = ids[0][i];
                if (!keep.contains(h)) {
                    customIds.remove(h);
                }
            }
            history.append(s);
            checkpoints.forget(s.getId());
            segments.remove(s.getId());
        }
        // state DONE first: a crash after this point only leaves files that the next start deletes
        states.write(s);
        deleteSegmentFiles(s.getId());
        states.forget(s.getId());
    }

    private void deleteSegmentFiles(String id) throws IOException {
        Files.deleteIfExists(dataFile(id));
        Files.deleteIfExists(carryFile(id));
        Files.deleteIfExists(checkpoints.file(id));
        Files.deleteIfExists(states.stateFile(id));
    }

    @Override
    public List<SegmentInfo> history(int max) {
        synchronized (lock) {
            return history.recent(max);
        }
    }

    private void syncDirtyQuietly() {
        try {
            syncDirty();
        } catch (IOException | RuntimeException e) {
            LOG.warn("Store '{}': background fsync failed: {}", name, e.getMessage());
        }
    }

    private void syncDirty() throws IOException {
        for (AppendFile f : dirty) {
            dirty.remove(f);
            try {
                // through a channel of its own if this one was closed under us: what was stored must reach the disk
                f.force();
            } catch (IOException e) {
                dirty.add(f);
                throw e;
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("Store '" + name + "' is closed");
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (syncer != null) {
                syncer.shutdownNow();
            }
            for (OpenFiles f : openFiles.values()) {
                try {
                    f.data.finish();
                    if (f.carry != null) {
                        f.carry.finish();
                    }
                    if (syncPolicy != SyncPolicy.NEVER) {
                        f.data.force();
                        if (f.carry != null) {
                            f.carry.force();
                        }
                    }
                    f.data.close();
                    if (f.carry != null) {
                        f.carry.close();
                    }
                } catch (IOException e) {
                    LOG.warn("Store '{}': error closing {}: {}", name, f.segmentId, e.getMessage());
                }
            }
            openFiles.clear();
            for (SegmentInfo s : segments.values()) {
                if (s.getStatus() == SegmentStatus.OPEN) {
                    try {
                        states.write(s);
                    } catch (IOException e) {
                        LOG.warn("Store '{}': cannot write state of {}: {}", name, s.getId(), e.getMessage());
                    }
                }
            }
            try {
                if (fileLock != null) {
                    fileLock.release();
                }
                if (lockChannel != null) {
                    lockChannel.close();
                }
            } catch (IOException e) {
                LOG.debug("Error releasing the store lock: {}", e.getMessage());
            }
        }
        try {
            states.runDeferred();
        } catch (IOException e) {
            LOG.warn("Store '{}': cannot write the state of open segments on close: {}", name, e.getMessage());
        }
    }

    Path dataFile(String id) {
        return segmentsDir.resolve(id + ".jsonl");
    }

    private Path carryFile(String id) {
        return segmentsDir.resolve(id + ".carry.jsonl");
    }

    static String groupKey(String endpoint, String model) {
        return endpoint + "\u0000" + model;
    }

    static long hash(String s) {
        return CustomIdSet.hash(s);
    }

    /** The hash of a request line's custom id, read from its bytes (the line is only parsed when it must be). */
    private long idHash(byte[] line) {
        return RequestLines.customIdHash(mapper, line, 0, line.length);
    }

    private static final class OpenFiles {
        final String segmentId;
        final AppendFile data;
        AppendFile carry;

        OpenFiles(String segmentId, AppendFile data) {
            this.segmentId = segmentId;
            this.data = data;
        }
    }
}
