package dev.camelbatch.openaibatch.engine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Supplier;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchStatus;
import dev.camelbatch.openaibatch.api.CreateBatchRequest;
import dev.camelbatch.openaibatch.api.OpenAIApiException;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIFile;
import dev.camelbatch.openaibatch.api.OpenAINotFoundException;
import dev.camelbatch.openaibatch.api.OutcomeUnknownException;
import dev.camelbatch.openaibatch.api.RetryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upload and create calls of a submission, made so that neither takes effect twice.
 * <p>
 * The client sends an upload or a create once and reports an {@link OutcomeUnknownException} when it may have taken
 * effect without a usable answer (connection lost after sending, a 5xx). Here, such a call is reconciled before it is
 * sent again: the upload is looked for by its filename (and any extra copy of it deleted), the batch by its metadata
 * labels; only when nothing is found is it sent again, after the client's {@link RetryPolicy} delay (which honours
 * {@code Retry-After}). The same lookups serve a step that a crash, a takeover or an earlier failed attempt left
 * recorded as started ({@code mayHaveBeenSent}).
 * <p>
 * A lookup goes back to a few minutes before the step was recorded as started (the clocks of this host and of the
 * service differ), newest first, and stops there.
 */
public final class SubmissionCalls {

    private static final Logger LOG = LoggerFactory.getLogger(SubmissionCalls.class);
    private static final int LIST_PAGE = 100;
    /** Lookups reach back this far before the recorded start of a step. */
    private static final long CLOCK_SKEW_SECONDS = 300;

    private final OpenAIBatchClient client;
    private final String name;
    private final EngineStats stats;

    /**
     * @param name  for log lines (the endpoint name)
     * @param stats where reconciliations are counted
     */
    public SubmissionCalls(OpenAIBatchClient client, String name, EngineStats stats) {
        this.client = client;
        this.name = name;
        this.stats = stats;
    }

    /**
     * Uploads a batch input file once: the id of the file stored under {@code filename}, found again when an earlier
     * call may have stored it.
     *
     * @param startedAtMillis when the upload step was recorded as started
     * @param mayHaveBeenSent whether an earlier call for this step may have taken effect (look first)
     */
    public String upload(Path file, String filename, Long expiresAfterSeconds, long startedAtMillis,
            boolean mayHaveBeenSent) {
        return once(() -> {
            OpenAIFile f = client.uploadFile(file, filename, "batch", expiresAfterSeconds);
            stats.filesUploaded.incrementAndGet();
            return f.getId();
        }, () -> findUpload(filename, startedAtMillis), mayHaveBeenSent);
    }

    /**
     * Creates a batch once: the batch whose metadata carries every entry of {@code labels} (all of them also in the
     * request's metadata), found again when an earlier call may have created it.
     *
     * @param startedAtMillis when the create step was recorded as started
     * @param mayHaveBeenSent whether an earlier call for this step may have taken effect (look first)
     */
    public Batch create(CreateBatchRequest request, Map<String, String> labels, long startedAtMillis,
            boolean mayHaveBeenSent) {
        return once(() -> {
            Batch b = client.createBatch(request);
            stats.batchesCreated.incrementAndGet();
            return b;
        }, () -> findBatch(labels, startedAtMillis), mayHaveBeenSent);
    }

    /**
     * The one rule of both: look first when an earlier call may have taken effect; send; when the outcome is unknown,
     * look at once, and only when nothing is found send again after the client's retry delay (looking once more
     * first), until the retry policy allows no more.
     */
    private <T> T once(Supplier<T> send, Supplier<T> find, boolean mayHaveBeenSent) {
        RetryPolicy policy = client.getConfig().getRetryPolicy();
        long start = System.nanoTime();
        for (int attempt = 1;; attempt++) {
            if (mayHaveBeenSent || attempt > 1) {
                T found = find.get();
                if (found != null) {
                    return found;
                }
            }
            try {
                return send.get();
            } catch (OutcomeUnknownException e) {
                T found = find.get();
                if (found != null) {
                    return found;
                }
                waitOrThrow(policy, attempt, start, e);
            }
        }
    }

    /**
     * The file stored under {@code filename} since shortly before {@code sinceMillis}, or {@code null}; every other
     * copy under that name (two uploads whose answers were lost, a copy the service marked as failed) is deleted.
     */
    public String findUpload(String filename, long sinceMillis) {
        stats.outcomesReconciled.incrementAndGet();
        long since = sinceMillis / 1000 - CLOCK_SKEW_SECONDS;
        String keep = null;
        Iterator<OpenAIFile> it = client.iterateFiles("batch", "desc");
        while (it.hasNext()) {
            OpenAIFile f = it.next();
            if (f.getCreatedAt() != null && f.getCreatedAt() < since) {
                break;
            }
            if (!filename.equals(f.getFilename())) {
                continue;
            }
            if (keep == null && !"error".equals(f.getStatus())) {
                keep = f.getId();
            } else {
                LOG.info("openai-batch:{}: deleting extra upload {} of {}", name, f.getId(), filename);
                if (deleteQuietly(f.getId())) {
                    stats.extraUploadsDeleted.incrementAndGet();
                }
            }
        }
        if (keep != null) {
            stats.remoteCopiesAdopted.incrementAndGet();
            LOG.info("openai-batch:{}: found upload {} of {} (its answer was lost, or a restart came between)", name,
                    keep, filename);
        }
        return keep;
    }

    /** The newest batch created since shortly before {@code sinceMillis} whose metadata has all {@code labels}. */
    public Batch findBatch(Map<String, String> labels, long sinceMillis) {
        stats.outcomesReconciled.incrementAndGet();
        long since = sinceMillis / 1000 - CLOCK_SKEW_SECONDS;
        Iterator<Batch> it = client.iterateBatches(LIST_PAGE);
        while (it.hasNext()) {
            Batch b = it.next();
            if (b.getCreatedAt() != null && b.getCreatedAt() < since) {
                break;
            }
            if (carries(b.getMetadata(), labels)) {
                stats.remoteCopiesAdopted.incrementAndGet();
                LOG.info("openai-batch:{}: found batch {} for {} (its answer was lost, or a restart came between)",
                        name, b.getId(), labels);
                return b;
            }
        }
        return null;
    }

    /** Whether {@code metadata} has every entry of {@code labels}. */
    public static boolean carries(Map<String, String> metadata, Map<String, String> labels) {
        if (metadata == null) {
            return false;
        }
        for (Map.Entry<String, String> e : labels.entrySet()) {
            if (!e.getValue().equals(metadata.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Deletes a remote file; true when it is gone (deleted now, or not found), false when it may still exist. */
    public boolean deleteQuietly(String fileId) {
        if (fileId == null) {
            return true;
        }
        try {
            client.deleteFile(fileId);
            stats.filesDeleted.incrementAndGet();
            return true;
        } catch (OpenAINotFoundException e) {
            // deleted before (perhaps by a call whose answer was lost)
            return true;
        } catch (OpenAIApiException e) {
            LOG.warn("openai-batch:{}: cannot delete file {}: {}", name, fileId, e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("openai-batch:{}: cannot delete file {}: {}", name, fileId, e.toString());
        }
        return false;
    }

    /**
     * Cancels a batch. Cancelling is idempotent: when a cancel whose answer was lost is answered "cannot cancel" the
     * second time, the batch is looked at, and one that is cancelling or cancelled counts as cancelled.
     *
     * @throws RuntimeException when the batch could not be cancelled (it finished first, say)
     */
    public void cancel(String batchId) {
        try {
            client.cancelBatch(batchId);
        } catch (OpenAIApiException e) {
            if (e.getHttpStatus() != 400 && e.getHttpStatus() != 409) {
                throw e;
            }
            BatchStatus now = BatchStatus.fromValue(client.retrieveBatch(batchId).getStatus());
            if (now != BatchStatus.CANCELLING && now != BatchStatus.CANCELLED) {
                throw e;
            }
            LOG.debug("openai-batch:{}: batch {} is {} already", name, batchId, now);
        }
    }

    /** Waits the policy's delay before the next lookup and attempt; rethrows when the policy allows no more. */
    private void waitOrThrow(RetryPolicy policy, int attempt, long startNanos, OutcomeUnknownException e) {
        Duration delay = policy.delayFor(attempt, e.getRetryAfter());
        if (!policy.allowsRetry(attempt, Duration.ofNanos(System.nanoTime() - startNanos), delay)) {
            throw e;
        }
        LOG.warn("openai-batch:{}: {}; not found at the service, looking again and sending it again in {} ms", name,
                e.getMessage(), delay.toMillis());
        try {
            Thread.sleep(delay.toMillis());
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw e;
        }
    }
}
