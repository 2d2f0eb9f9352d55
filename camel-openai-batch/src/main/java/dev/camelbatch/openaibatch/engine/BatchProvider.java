package dev.camelbatch.openaibatch.engine;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;

/**
 * The seam between the engine and a remote batch service. The engine decides what happens when (which segment is
 * submitted, when it is polled, how its lines go out, what is retried); a provider only talks to its service. OpenAI
 * (and Azure OpenAI) is the first implementation ({@link OpenAIProvider}); docs/architecture.md shows how Anthropic's
 * Message Batches and Gemini's batch mode map onto it.
 * <p>
 * The contract:
 * <ul>
 * <li><b>Normalised shapes.</b> A batch is described as a {@link Batch} (the OpenAI shape: status, request counts,
 * usage, errors, and the handles of its results in {@code output_file_id} / {@code error_file_id}); a provider maps its
 * service's batch onto it. Result lines are OpenAI batch output lines (`custom_id`, `response.status_code`,
 * `response.body`, or `error.code` / `error.message`, with `batch_expired` and `batch_cancelled` for requests that did
 * not run), streamed by {@link #open}.</li>
 * <li><b>Submission in recorded steps.</b> The engine records each step before it calls the provider
 * ({@code UPLOADING} before {@link #upload}, {@code CREATING} before {@link #create}), and the outcome after.
 * {@code mayHaveBeenSent} tells the provider that an earlier call of this step may have taken effect without the
 * engine knowing (a crash, a takeover by another node, a lost answer): the provider must then <b>find the submission
 * again</b> before sending anything, and send only when it is certain there is none. "Find again" is the provider's
 * business: by metadata and filename for OpenAI; by a display name for Gemini; for a service without metadata, by
 * what it can match (requests counted and created in the step's time window, then the custom ids of its results) -
 * and where a match cannot be certain, the provider says so by throwing rather than guessing. Within one call, a
 * provider sends a step once and reconciles before any repetition whose outcome it does not know.</li>
 * <li><b>Few calls.</b> {@link #poll} reads every batch in flight in as few calls as the service allows (OpenAI: one
 * list call per cycle).</li>
 * <li><b>Idempotent clean-up.</b> {@link #cancel} of a batch already cancelling or cancelled and {@link #delete} of
 * data already gone succeed.</li>
 * <li><b>Errors.</b> A refused key is an {@link dev.camelbatch.openaibatch.api.OpenAIAuthenticationException}; any
 * other failure a runtime exception of the API layer; the engine retries with its backoff.</li>
 * </ul>
 */
public interface BatchProvider {

    /**
     * Whether a segment's requests go up as a file of their own before the create (OpenAI, Azure, Gemini with a
     * file): the segment then passes {@code UPLOADING} and {@code UPLOADED}; otherwise the requests travel in the
     * create call itself (Anthropic, Gemini inline) and the segment goes from {@code SEALED} to {@code CREATING}.
     */
    boolean uploadsRequests();

    /**
     * Uploads the segment's requests (a JSONL file of OpenAI request lines) under the segment's upload filename.
     *
     * @return the handle of the uploaded requests (recorded as the segment's input file id)
     */
    String upload(SegmentInfo s, Path requests, boolean mayHaveBeenSent);

    /**
     * Creates the segment's batch, labelled so that it can be found again ({@link Submitter#labels}).
     *
     * @param requests the requests, for a provider that does not upload them ({@code null} otherwise: the segment's
     *                 input file id names them)
     */
    Batch create(SegmentInfo s, Path requests, boolean mayHaveBeenSent);

    /** The batches of these segments (all SUBMITTED), by batch id; a batch the service did not show is left out. */
    Map<String, Batch> poll(List<SegmentInfo> inFlight);

    /** Opens one of a finished batch's result streams, by the handle the normalised batch carried. */
    InputStream open(String handle);

    /** Deletes remote data by its handle; true when it is gone (now, or before), false when it may still exist. */
    boolean delete(String handle);

    /** Cancels a batch; succeeds when it is cancelling or cancelled already. */
    void cancel(String batchId);

    /** One cheap call that fails with an authentication error while the service refuses the key. */
    void checkAccess();

    /** How many calls may run at once (a second one lets the next result file come in while lines go out). */
    int connections();
}
