package dev.camelbatch.openaibatch.engine.store;

import java.io.IOException;

/**
 * A change to a segment was refused because another node holds its lease now (this node stopped renewing it in
 * time and the segment was taken over). The change is not applied; the node must leave the segment alone.
 */
public class LeaseLostException extends IOException {

    private final String segmentId;

    public LeaseLostException(String segmentId, String owner, String holder) {
        super("Segment " + segmentId + " is leased to " + (holder != null ? "'" + holder + "'" : "another node")
              + ", not to '" + owner + "': its lease expired and another node took the segment over");
        this.segmentId = segmentId;
    }

    public String getSegmentId() {
        return segmentId;
    }
}
