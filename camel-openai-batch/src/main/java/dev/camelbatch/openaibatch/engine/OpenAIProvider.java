package dev.camelbatch.openaibatch.engine;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchList;
import dev.camelbatch.openaibatch.api.CreateBatchRequest;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI Files and Batch API (and Azure OpenAI's, through the same client) behind the {@link BatchProvider} seam:
 * requests uploaded as a file, a batch created with metadata labels, found again by filename and labels
 * ({@link SubmissionCalls}), all batches in flight polled with one list call per cycle, results read from the output
 * and error files.
 */
public final class OpenAIProvider implements BatchProvider {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIProvider.class);
    private static final int LIST_PAGE = 100;

    private final OpenAIBatchClient client;
    private final String name;
    private final SubmissionCalls calls;
    private final EngineStats stats;
    private final String completionWindow;
    private final long inputFileExpiresAfter;
    private final int maxListPages;

    /**
     * @param name                  the endpoint name (labels, log lines)
     * @param stats                 where calls and reconciliations are counted
     * @param completionWindow      of every batch ({@code 24h})
     * @param inputFileExpiresAfter seconds after which the service deletes an input file by itself, 0 for never
     * @param maxListPages          the most pages one poll reads before it asks for the rest one by one
     */
    public OpenAIProvider(OpenAIBatchClient client, String name, EngineStats stats, String completionWindow,
            long inputFileExpiresAfter, int maxListPages) {
        this.client = client;
        this.name = name;
        this.stats = stats;
        this.calls = new SubmissionCalls(client, name, stats);
        this.completionWindow = completionWindow;
        this.inputFileExpiresAfter = inputFileExpiresAfter;
        this.maxListPages = maxListPages;
    }

    @Override
    public boolean uploadsRequests() {
        return true;
    }

    @Override
    public String upload(SegmentInfo s, Path requests, boolean mayHaveBeenSent) {
        long started = s.getUploadStartedAt() != null ? s.getUploadStartedAt() : s.getCreatedAt();
        return calls.upload(requests, s.getUploadFilename(), inputFileExpiresAfter > 0 ? inputFileExpiresAfter : null,
                started, mayHaveBeenSent);
    }

    @Override
    public Batch create(SegmentInfo s, Path requests, boolean mayHaveBeenSent) {
        long started = s.getCreateStartedAt() != null ? s.getCreateStartedAt() : s.getCreatedAt();
        Map<String, String> labels = Submitter.labels(name, s);
        return calls.create(CreateBatchRequest.builder()
                .inputFileId(s.getInputFileId())
                .endpoint(s.getEndpoint())
                .completionWindow(completionWindow)
                .metadata(labels)
                .build(), labels, started, mayHaveBeenSent);
    }

    /**
     * Pages of the batch list, newest first, until every batch in flight was seen or the list goes past the oldest
     * of them; a batch still not seen (more than {@code maxListPages} pages, or not listed) is retrieved on its own.
     */
    @Override
    public Map<String, Batch> poll(List<SegmentInfo> inFlight) {
        Map<String, SegmentInfo> byBatch = new HashMap<>();
        long oldest = Long.MAX_VALUE;
        for (SegmentInfo s : inFlight) {
            byBatch.put(s.getBatchId(), s);
            oldest = s.getBatchCreatedAt() != null ? Math.min(oldest, s.getBatchCreatedAt()) : Long.MIN_VALUE;
        }
        Map<String, Batch> seen = new HashMap<>();
        String after = null;
        int pages = 0;
        while (seen.size() < byBatch.size()) {
            if (pages++ == maxListPages) {
                LOG.warn("openai-batch:{}: the batch list still had more after {} pages; polling the batches not"
                         + " seen one by one", name, maxListPages);
                break;
            }
            BatchList page = client.listBatches(after, LIST_PAGE);
            stats.pollCalls.incrementAndGet();
            List<Batch> data = page.getData() != null ? page.getData() : List.of();
            boolean pastOldest = false;
            for (Batch b : data) {
                if (byBatch.containsKey(b.getId())) {
                    seen.put(b.getId(), b);
                }
                if (b.getCreatedAt() != null && b.getCreatedAt() < oldest) {
                    pastOldest = true;
                }
            }
            if (!Boolean.TRUE.equals(page.getHasMore()) || data.isEmpty() || pastOldest) {
                break;
            }
            after = data.get(data.size() - 1).getId();
        }
        for (SegmentInfo s : inFlight) {
            if (!seen.containsKey(s.getBatchId())) {
                seen.put(s.getBatchId(), client.retrieveBatch(s.getBatchId()));
                stats.pollCalls.incrementAndGet();
            }
        }
        return seen;
    }

    @Override
    public InputStream open(String handle) {
        return client.downloadFileContent(handle);
    }

    @Override
    public boolean delete(String handle) {
        return calls.deleteQuietly(handle);
    }

    @Override
    public void cancel(String batchId) {
        calls.cancel(batchId);
    }

    @Override
    public void checkAccess() {
        client.listBatches(null, 1);
    }

    @Override
    public int connections() {
        return client.getConfig().getMaxConnections();
    }
}
