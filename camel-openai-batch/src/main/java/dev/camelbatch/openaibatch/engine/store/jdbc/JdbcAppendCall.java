package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.io.IOException;
import java.util.List;

import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;

/** One producer's call of {@link JdbcSpool#append}: what it appends, and its outcome once written. */
final class JdbcAppendCall {

    final String endpoint;
    final String model;
    final String group;
    final List<SpoolRecord> records;
    final SegmentLimits limits;
    final Thread thread = Thread.currentThread();
    /** Set last, after the outcome (the producer reads it without the lane's lock). */
    volatile boolean done;
    /** Set when the lead of the lane is handed to this call's producer. */
    volatile boolean lead;
    List<String> sealed;
    RuntimeException refused;
    IOException failure;

    JdbcAppendCall(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits) {
        this.endpoint = endpoint;
        this.model = model;
        this.group = endpoint + '\u0000' + model;
        this.records = records;
        this.limits = limits;
    }

    void refuse(RuntimeException e) {
        refused = e;
        done = true;
    }

    void fail(IOException e) {
        failure = e;
        done = true;
    }

    void succeed(List<String> sealedIds) {
        sealed = sealedIds;
        done = true;
    }
}
