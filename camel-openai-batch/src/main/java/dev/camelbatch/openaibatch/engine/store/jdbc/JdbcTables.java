package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;

/**
 * What the parts of the JDBC store share: the endpoint name, the table names of a prefix, the database (PostgreSQL
 * or another: H2) and the segment state as JSON.
 */
final class JdbcTables {

    /**
     * The database's clock in epoch milliseconds (leases never compare the clocks of two nodes).
     */
    static final String NOW_MS = "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)";

    final String name;
    final String prefix;
    final String segments;
    final String requests;
    final String history;
    private final ObjectMapper mapper;
    private volatile boolean postgres;

    JdbcTables(String name, String prefix, ObjectMapper mapper) {
        this.name = name;
        this.prefix = prefix;
        this.segments = prefix + "segments";
        this.requests = prefix + "requests";
        this.history = prefix + "history";
        this.mapper = mapper;
    }

    boolean postgres() {
        return postgres;
    }

    void postgres(boolean postgres) {
        this.postgres = postgres;
    }

    SegmentInfo readState(String json) throws IOException {
        try {
            return mapper.readValue(json, SegmentInfo.class);
        } catch (JsonProcessingException e) {
            throw new IOException("Store '" + name + "': unreadable segment state: " + e.getOriginalMessage(), e);
        }
    }

    String writeState(SegmentInfo s) throws IOException {
        return mapper.writeValueAsString(s);
    }
}
