package dev.camelbatch.openaibatch.engine.store;

import java.util.ArrayList;
import java.util.List;

/**
 * The one owner of a segment's status: the table of the moves a segment may make, and the only code that makes them
 * ({@link #move}); a move the table does not have throws. Stores persist what a move decided (and restore it when they
 * read a segment back), they do not decide. docs/concepts.md's diagram is this table ({@link #mermaid()}, checked by
 * a test).
 */
public final class SegmentLifecycle {

    /** One move of the table; {@code from == null} is a segment coming into being, {@code to == null} one going away. */
    public record Move(SegmentStatus from, SegmentStatus to, String why) {
    }

    private static final List<Move> MOVES = List.of(
            new Move(null, SegmentStatus.STAGING, "JSONL document being spooled"),
            new Move(SegmentStatus.STAGING, SegmentStatus.OPEN, "document valid (last segment of its group)"),
            new Move(SegmentStatus.STAGING, SegmentStatus.SEALED, "document valid (full segments / flush)"),
            new Move(SegmentStatus.STAGING, null, "a bad line or a crash: dropped"),
            new Move(null, SegmentStatus.OPEN, "first request of a (endpoint, model)"),
            new Move(SegmentStatus.OPEN, SegmentStatus.SEALED, "count / bytes / tokens / age / flush"),
            new Move(null, SegmentStatus.SEALED, "requests to resubmit, as a segment of their own"),
            new Move(SegmentStatus.SEALED, SegmentStatus.UPLOADING, "upload recorded as started"),
            new Move(SegmentStatus.SEALED, SegmentStatus.CREATING, "create recorded as started (requests inline)"),
            new Move(SegmentStatus.UPLOADING, SegmentStatus.UPLOADED, "file id recorded"),
            new Move(SegmentStatus.UPLOADED, SegmentStatus.CREATING, "create recorded as started"),
            new Move(SegmentStatus.CREATING, SegmentStatus.SUBMITTED, "batch id recorded (created or found)"),
            new Move(SegmentStatus.SUBMITTED, SegmentStatus.FINISHED, "batch completed / expired / cancelled / failed"),
            new Move(SegmentStatus.SUBMITTED, SegmentStatus.SEALED, "batch failed, to be resubmitted with backoff"),
            new Move(SegmentStatus.FINISHED, SegmentStatus.DONE, "every line delivered, files deleted"),
            new Move(SegmentStatus.UPLOADING, SegmentStatus.DONE, "submit failed before its create: dropped"),
            new Move(SegmentStatus.UPLOADED, SegmentStatus.DONE, "submit failed before its create: dropped"),
            new Move(SegmentStatus.DONE, null, "compact record kept in history"));

    private SegmentLifecycle() {
    }

    /** Every move, in the order of the diagram. */
    public static List<Move> moves() {
        return MOVES;
    }

    /** Whether a segment may move from {@code from} to {@code to}. */
    public static boolean allowed(SegmentStatus from, SegmentStatus to) {
        for (Move m : MOVES) {
            if (m.from() == from && m.to() == to) {
                return true;
            }
        }
        return false;
    }

    /**
     * Moves a segment to {@code to} (in memory: the caller has the store persist it).
     *
     * @throws IllegalStateException when the table has no such move from the segment's status
     */
    public static void move(SegmentInfo s, SegmentStatus to) {
        SegmentStatus from = s.getStatus();
        if (!allowed(from, to)) {
            throw new IllegalStateException("segment " + s.getId() + " cannot move from " + from + " to " + to);
        }
        s.setStatus(to);
    }

    /** The way a sealed segment goes when all is well, for {@link #advance}. */
    private static final List<SegmentStatus> MAIN_PATH = List.of(SegmentStatus.OPEN, SegmentStatus.SEALED,
            SegmentStatus.UPLOADING, SegmentStatus.UPLOADED, SegmentStatus.CREATING, SegmentStatus.SUBMITTED,
            SegmentStatus.FINISHED, SegmentStatus.DONE);

    /**
     * Moves a segment along the main path up to {@code to}, one legal move at a time (for tools and tests that make
     * a segment by hand, e.g. a finished one whose output file they uploaded themselves).
     */
    public static void advance(SegmentInfo s, SegmentStatus to) {
        int target = MAIN_PATH.indexOf(to);
        int at = MAIN_PATH.indexOf(s.getStatus());
        if (target < 0 || at < 0 || at > target) {
            throw new IllegalStateException("segment " + s.getId() + " cannot advance from " + s.getStatus() + " to "
                                            + to);
        }
        for (int i = at + 1; i <= target; i++) {
            move(s, MAIN_PATH.get(i));
        }
    }

    /** Seals a segment: the move to {@code SEALED}, with when and why it was sealed. */
    public static void seal(SegmentInfo s, SealReason reason, long at) {
        move(s, SegmentStatus.SEALED);
        s.setSealedAt(at);
        s.sealedBy(reason);
    }

    /**
     * Puts back a status a store read from where it keeps segments (a row, a state file): not a change, so no move of
     * the table; a store writes only statuses that a move decided.
     */
    public static void restore(SegmentInfo s, SegmentStatus read) {
        s.setStatus(read);
    }

    /** The status a new segment starts in (a move from nothing). */
    static void begin(SegmentInfo s, SegmentStatus status) {
        if (!allowed(null, status)) {
            throw new IllegalStateException("a segment cannot begin as " + status);
        }
        s.setStatus(status);
    }

    /** The table as a mermaid state diagram (the body of docs/concepts.md's "life of a segment"). */
    public static String mermaid() {
        List<String> lines = new ArrayList<>();
        lines.add("stateDiagram-v2");
        for (Move m : MOVES) {
            lines.add("    " + (m.from() == null ? "[*]" : m.from().name()) + " --> "
                      + (m.to() == null ? "[*]" : m.to().name()) + ": " + m.why());
        }
        return String.join("\n", lines);
    }
}
