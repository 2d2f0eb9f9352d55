package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/** Metadata of a stored file; the bytes live on disk at {@link #path}. */
record StoredFile(String id, long seq, String filename, String purpose, long bytes, long createdAt, Long expiresAt,
        Path path) {

    /** The OpenAIFile JSON. */
    ObjectNode toJson() {
        ObjectNode n = Json.object();
        n.put("id", id);
        n.put("object", "file");
        n.put("bytes", bytes);
        n.put("created_at", createdAt);
        if (expiresAt != null) {
            n.put("expires_at", expiresAt.longValue());
        }
        n.put("filename", filename);
        n.put("purpose", purpose);
        n.put("status", "processed");
        n.putNull("status_details");
        return n;
    }
}
