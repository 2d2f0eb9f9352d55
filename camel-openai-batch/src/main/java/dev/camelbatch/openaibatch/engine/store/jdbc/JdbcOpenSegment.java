package dev.camelbatch.openaibatch.engine.store.jdbc;

import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;

/**
 * An open segment as a writer sees it while it fills it: the state, and the counts that change with every append
 * (kept apart from the state JSON, which is written when the segment is sealed).
 */
final class JdbcOpenSegment {

    final SegmentInfo info;
    int count;
    long bytes;
    long tokens;
    /** Whether rows were added since the counts were last written. */
    boolean dirty;

    JdbcOpenSegment(SegmentInfo info) {
        this.info = info;
        this.count = info.getRequestCount();
        this.bytes = info.getBytes();
        this.tokens = info.getTokens();
    }

    String id() {
        return info.getId();
    }

    /** Adds one record's amounts. */
    void add(SpoolRecord r) {
        count++;
        bytes += r.line().length + 1;
        tokens += r.tokens();
        dirty = true;
    }

    /** Why a segment holding these amounts is sealed before a record of these sizes (0: because it is full). */
    SealReason sealReason(SegmentLimits limits, int nextBytes) {
        return SealReason.limitReached(limits, count, bytes, nextBytes);
    }
}
