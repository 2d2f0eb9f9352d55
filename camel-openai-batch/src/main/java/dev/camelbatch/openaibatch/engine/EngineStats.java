package dev.camelbatch.openaibatch.engine;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one engine since it started (for JMX, metrics and the dev console). */
public class EngineStats {
    public final AtomicLong filesUploaded = new AtomicLong();
    public final AtomicLong batchesCreated = new AtomicLong();
    public final AtomicLong submitFailures = new AtomicLong();
    public final AtomicLong pollCycles = new AtomicLong();
    public final AtomicLong pollCalls = new AtomicLong();
    public final AtomicLong resultLinesEmitted = new AtomicLong();
    public final AtomicLong errorLinesEmitted = new AtomicLong();
    public final AtomicLong requestsResubmitted = new AtomicLong();
    public final AtomicLong downloadRetries = new AtomicLong();
    /** Output files downloaded while the batch before them was being emitted. */
    public final AtomicLong filesDownloadedAhead = new AtomicLong();
    public final AtomicLong filesDeleted = new AtomicLong();
    public final AtomicLong batchesDone = new AtomicLong();
}
