package dev.camelbatch.openaibatch.engine.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Durable state of one endpoint name: the spool of requests (segments) and the state of every batch made from them.
 * <p>
 * Nothing above this interface may assume a local file system: the embedded {@code FileBatchStore} keeps it in a
 * directory, other implementations in a database shared by several nodes.
 */
public interface BatchStore extends AutoCloseable {

    /** The endpoint name this store belongs to. */
    String name();

    /**
     * Appends requests to the open segment of the group (endpoint, model), rolling over to a new segment when one is
     * full by the given limits. All records are checked first (duplicate custom ids), so either all are appended or none. When this
     * returns, the lines have reached the operating system (and the disk, with {@link SyncPolicy#ALWAYS}).
     *
     * @return the ids of the segments that this call sealed
     * @throws DuplicateCustomIdException when a custom id is already spooled or in flight under this name
     */
    List<String> append(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits)
            throws IOException;

    /**
     * Starts an all-or-nothing append of many requests (a JSONL document): its lines go into segments of their own
     * that become visible only on {@link DocumentAppender#commit}; closing without a commit (or a crash) drops them.
     */
    DocumentAppender beginDocument(String endpoint, SegmentLimits limits) throws IOException;

    /** See {@link #beginDocument}. */
    interface DocumentAppender extends AutoCloseable {

        /**
         * Adds one request.
         *
         * @throws DuplicateCustomIdException when the id is spooled already or repeats an earlier line
         */
        void add(String model, SpoolRecord record) throws IOException;

        /**
         * Adds one request, naming its line in the document. A store that checks duplicates against the spooled
         * requests in chunks (a database) may find a duplicate only at a later {@code add} or at {@link #commit};
         * the exception then names this line ({@link DuplicateCustomIdException#getLineNumber()}).
         */
        default void add(String model, SpoolRecord record, long lineNumber) throws IOException {
            add(model, record);
        }

        /** Makes every line visible at once; with {@code seal} all its segments are sealed. Returns those sealed. */
        List<String> commit(boolean seal) throws IOException;

        /**
         * Makes every line visible at once in segments that are sealed and then passed to {@code prepare}, which may
         * set their state (e.g. {@link SegmentStatus#UPLOADING} with a {@code notBefore} for a submission already
         * under way): no reader of the store ever sees them in another state. Returns copies of the segments as
         * made visible. A store that cannot do this atomically throws {@link UnsupportedOperationException} (nothing
         * is committed then).
         */
        default List<SegmentInfo> commitPrepared(java.util.function.Consumer<SegmentInfo> prepare)
                throws IOException {
            throw new UnsupportedOperationException(getClass().getName() + " cannot commit prepared segments");
        }

        /** Drops everything added unless committed. */
        @Override
        void close();
    }

    /** Whether a request with this custom id is spooled or in flight under this name. */
    boolean containsCustomId(String customId);

    /** Copies of every segment that is not {@link SegmentStatus#DONE}, oldest first. */
    List<SegmentInfo> segments();

    /** A copy of one segment, or {@code null}. */
    SegmentInfo segment(String id);

    /** Seals the open segments that match, with the given reason; returns the ids sealed. */
    List<String> sealOpen(Predicate<SegmentInfo> filter, SealReason reason) throws IOException;

    /** Persists a state transition of a sealed segment (atomically). */
    void update(SegmentInfo segment) throws IOException;

    /**
     * Creates a sealed segment from the given records, for resubmitting failed requests of a parent segment as a new
     * attempt.
     */
    SegmentInfo createSealedSegment(String endpoint, String model, int attempt, String parentId,
            List<SpoolRecord> records)
            throws IOException;

    /**
     * A file holding the segment's JSONL exactly as it must be uploaded; call {@link #releaseUploadFile} when done.
     */
    Path uploadFile(String segmentId) throws IOException;

    void releaseUploadFile(String segmentId, Path file) throws IOException;

    /** Streams the request lines of a segment (UTF-8 JSON, no newline) to the consumer. */
    void readRequests(String segmentId, Consumer<byte[]> lineConsumer) throws IOException;

    /** Carried headers by custom id, for the requests of a segment that carry any (UTF-8 JSON objects). */
    Map<String, byte[]> carriedHeaders(String segmentId) throws IOException;

    /** Records how many lines of each kind have been delivered; must be cheap enough to call per line. */
    void checkpoint(String segmentId, long output, long errors, long synthetic) throws IOException;

    /** Marks a segment done: drops its data, keeps a compact record for audit, frees its custom ids. */
    void complete(SegmentInfo segment) throws IOException;

    /** The most recent compact records of finished segments, newest last. */
    List<SegmentInfo> history(int max);

    // ---------------------------------------------------------------- leases (several nodes)

    /**
     * Whether several engines (nodes) may drive this store's segments at the same time, each segment by the one
     * engine that holds its lease. Stores for one JVM (the file store) return false, and the lease methods below
     * always succeed.
     */
    default boolean supportsLeases() {
        return false;
    }

    /**
     * Claims the lease of a sealed segment for the owner until {@code leaseMillis} from now, or extends it when the
     * owner holds it already. Fails (false) while another owner holds a lease that has not expired.
     */
    default boolean tryClaim(String segmentId, String owner, long leaseMillis) throws IOException {
        return true;
    }

    /**
     * Extends every lease the owner holds (expired ones too, as long as no other owner took them over).
     *
     * @return the ids of the segments whose leases the owner holds now (empty for stores without leases)
     */
    default Set<String> renewLeases(String owner, long leaseMillis) throws IOException {
        return Set.of();
    }

    /** Gives up the owner's lease of one segment (another node may claim it at once). */
    default void releaseLease(String segmentId, String owner) throws IOException {
    }

    /** Gives up every lease the owner holds, e.g. when its engine stops. */
    default void releaseLeases(String owner) throws IOException {
    }

    @Override
    void close();
}
