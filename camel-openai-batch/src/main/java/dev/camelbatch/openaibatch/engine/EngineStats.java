package dev.camelbatch.openaibatch.engine;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one engine since it started (for JMX, metrics and the dev console). */
public class EngineStats {
    public final AtomicLong filesUploaded = new AtomicLong();
    public final AtomicLong batchesCreated = new AtomicLong();
    public final AtomicLong submitFailures = new AtomicLong();
    /** Uploads and creates whose outcome was unknown (no answer, a 5xx, a crash), looked up at the service. */
    public final AtomicLong outcomesReconciled = new AtomicLong();
    /** Uploads and batches found at the service that a lost answer or a crash had left behind. */
    public final AtomicLong remoteCopiesAdopted = new AtomicLong();
    /** Extra copies of an upload found at the service and deleted. */
    public final AtomicLong extraUploadsDeleted = new AtomicLong();
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
