package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.Names;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;

/**
 * The one submission pipeline: takes a segment from {@link SegmentStatus#SEALED} to {@link SegmentStatus#SUBMITTED}
 * (upload its requests as a file, create the batch), recording each step before its call and its outcome after. The
 * engine submits every segment through it, and {@code operation=submit} the segments it sends itself, so both name
 * the upload, label the batch and reconcile alike.
 * <p>
 * The rule that keeps a segment from being submitted twice: a step found recorded as started
 * ({@link SegmentStatus#UPLOADING}, {@link SegmentStatus#CREATING}) may have been carried out by a call whose answer
 * never arrived (a crash, a takeover by another node, a lost answer, a failed save), so it is reconciled with the
 * service before anything is sent; only a step this pipeline has just recorded, in the same pass, goes out without
 * looking first; the {@link BatchProvider} does the looking.
 */
public final class Submitter {

    /** Metadata key of a batch: the endpoint name (first 512 characters). */
    public static final String META_NAME = "camel_openai_batch_name";
    /** Metadata key of a batch: the segment it was made from. */
    public static final String META_SEGMENT = "camel_openai_batch_segment";
    /**
     * Metadata key of a batch: {@code attempt.failedBatches} of its segment, so that every new submission of a
     * segment has its own label, and a submission error between a create call and its reconciliation does not change
     * what is looked for.
     */
    public static final String META_ATTEMPT = "camel_openai_batch_attempt";

    /** Checked right before a call that would make something at the service (a lease still held, say). */
    @FunctionalInterface
    public interface Guard {
        void check(SegmentInfo s) throws IOException;
    }

    private final BatchStore store;
    private final BatchProvider provider;
    private final Guard guard;

    /** @param guard checked before each upload and create */
    public Submitter(BatchStore store, BatchProvider provider, Guard guard) {
        this.store = store;
        this.provider = provider;
        this.guard = guard != null ? guard : s -> {
        };
    }

    /**
     * Records a sealed segment's upload as started (its filename first), without sending anything: what
     * {@link #submit} does first, for callers that record it together with other state.
     */
    public static void prepareUpload(String endpointName, SegmentInfo s) {
        s.setUploadFilename(uploadFilename(endpointName, s));
        s.setUploadStartedAt(System.currentTimeMillis());
        SegmentLifecycle.move(s, SegmentStatus.UPLOADING);
    }

    /**
     * Takes the segment as far as {@link SegmentStatus#SUBMITTED}, from wherever its recorded state says it is.
     *
     * @param uploadRecordedNotSent the caller has just recorded the upload as started ({@link #prepareUpload}) and
     *                              sent nothing since: no lookup before the upload
     * @return the batch
     * @throws IOException or a runtime exception of the provider when a step failed; the segment's recorded state
     *                     then says which step to reconcile next time
     */
    public Batch submit(SegmentInfo s, boolean uploadRecordedNotSent) throws IOException {
        boolean uploadUnsent = uploadRecordedNotSent;
        boolean createUnsent = false;
        if (s.getStatus() == SegmentStatus.SEALED && provider.uploadsRequests()) {
            prepareUpload(store.name(), s);
            store.update(s);
            uploadUnsent = true;
        }
        if (s.getStatus() == SegmentStatus.UPLOADING) {
            guard.check(s);
            String inputId;
            Path file = store.uploadFile(s.getId());
            try {
                inputId = provider.upload(s, file, !uploadUnsent);
            } finally {
                store.releaseUploadFile(s.getId(), file);
            }
            s.setInputFileId(inputId);
            SegmentLifecycle.move(s, SegmentStatus.UPLOADED);
            store.update(s);
        }
        if (s.getStatus() == SegmentStatus.UPLOADED || s.getStatus() == SegmentStatus.SEALED) {
            // SEALED here: a service that takes the requests in the create call
            s.setCreateStartedAt(System.currentTimeMillis());
            SegmentLifecycle.move(s, SegmentStatus.CREATING);
            store.update(s);
            createUnsent = true;
        }
        if (s.getStatus() != SegmentStatus.CREATING) {
            throw new IllegalStateException("segment " + s.getId() + " cannot be submitted: it is " + s.getStatus());
        }
        guard.check(s);
        Batch batch;
        if (provider.uploadsRequests()) {
            batch = provider.create(s, null, !createUnsent);
        } else {
            Path file = store.uploadFile(s.getId());
            try {
                batch = provider.create(s, file, !createUnsent);
            } finally {
                store.releaseUploadFile(s.getId(), file);
            }
        }
        s.submittedAs(batch.getId(), batch.getStatus(), batch.getCreatedAt(), System.currentTimeMillis());
        store.update(s);
        return batch;
    }

    /** The filename a segment's input file is uploaded under: unique per segment, attempt and failed batch. */
    public static String uploadFilename(String endpointName, SegmentInfo s) {
        return "camel-openai-batch_" + Names.safe(endpointName) + "_" + s.getId() + "_a" + s.getAttempt() + "_"
               + s.getBatchFailures() + ".jsonl";
    }

    /** The metadata a segment's batch carries, by which it is found again. */
    public static Map<String, String> labels(String endpointName, SegmentInfo s) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(META_NAME, Names.metadataValue(endpointName));
        m.put(META_SEGMENT, s.getId());
        m.put(META_ATTEMPT, s.getAttempt() + "." + s.getBatchFailures());
        return m;
    }
}
