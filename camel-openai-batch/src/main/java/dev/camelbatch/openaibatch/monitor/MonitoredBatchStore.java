package dev.camelbatch.openaibatch.monitor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;

/**
 * A store that counts, in its {@link OpenAIBatchMonitor}, the requests spooled and the segments sealed through it
 * (by producers and by the engine alike); everything else is passed through unchanged.
 */
public final class MonitoredBatchStore implements BatchStore {

    private final BatchStore delegate;
    private final OpenAIBatchMonitor monitor;

    public MonitoredBatchStore(BatchStore delegate, OpenAIBatchMonitor monitor) {
        this.delegate = delegate;
        this.monitor = monitor;
    }

    BatchStore delegate() {
        return delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public List<String> append(String endpoint, String model, List<SpoolRecord> records, SegmentLimits limits)
            throws IOException {
        List<String> sealed = delegate.append(endpoint, model, records, limits);
        monitor.spooled(records.size(), false);
        monitor.sealed(sealed.size());
        return sealed;
    }

    @Override
    public DocumentAppender beginDocument(String endpoint, SegmentLimits limits) throws IOException {
        DocumentAppender doc = delegate.beginDocument(endpoint, limits);
        return new DocumentAppender() {
            private int added;

            @Override
            public void add(String model, SpoolRecord record) throws IOException {
                doc.add(model, record);
                added++;
            }

            @Override
            public void add(String model, SpoolRecord record, long lineNumber) throws IOException {
                doc.add(model, record, lineNumber);
                added++;
            }

            @Override
            public List<String> commit(boolean seal) throws IOException {
                List<String> sealed = doc.commit(seal);
                monitor.spooled(added, true);
                monitor.sealed(sealed.size());
                return sealed;
            }

            @Override
            public List<SegmentInfo> commitPrepared(java.util.function.Consumer<SegmentInfo> prepare)
                    throws IOException {
                // the submit operation's segments (already being submitted when they become visible)
                List<SegmentInfo> made = doc.commitPrepared(prepare);
                monitor.spooled(added, true);
                monitor.sealed(made.size());
                return made;
            }

            @Override
            public void close() {
                doc.close();
            }
        };
    }

    @Override
    public boolean containsCustomId(String customId) {
        return delegate.containsCustomId(customId);
    }

    @Override
    public List<SegmentInfo> segments() {
        return delegate.segments();
    }

    @Override
    public SegmentInfo segment(String id) {
        return delegate.segment(id);
    }

    @Override
    public List<String> sealOpen(Predicate<SegmentInfo> filter, SealReason reason) throws IOException {
        List<String> sealed = delegate.sealOpen(filter, reason);
        monitor.sealed(sealed.size());
        return sealed;
    }

    @Override
    public void update(SegmentInfo segment) throws IOException {
        delegate.update(segment);
    }

    @Override
    public SegmentInfo createSealedSegment(String endpoint, String model, int attempt, String parentId,
            List<SpoolRecord> records)
            throws IOException {
        SegmentInfo s = delegate.createSealedSegment(endpoint, model, attempt, parentId, records);
        monitor.sealed(1);
        return s;
    }

    @Override
    public Path uploadFile(String segmentId) throws IOException {
        return delegate.uploadFile(segmentId);
    }

    @Override
    public void releaseUploadFile(String segmentId, Path file) throws IOException {
        delegate.releaseUploadFile(segmentId, file);
    }

    @Override
    public void readRequests(String segmentId, Consumer<byte[]> lineConsumer) throws IOException {
        delegate.readRequests(segmentId, lineConsumer);
    }

    @Override
    public Map<String, byte[]> carriedHeaders(String segmentId) throws IOException {
        return delegate.carriedHeaders(segmentId);
    }

    @Override
    public void checkpoint(String segmentId, long output, long errors, long synthetic) throws IOException {
        delegate.checkpoint(segmentId, output, errors, synthetic);
    }

    @Override
    public void complete(SegmentInfo segment) throws IOException {
        delegate.complete(segment);
    }

    @Override
    public List<SegmentInfo> history(int max) {
        return delegate.history(max);
    }

    @Override
    public boolean supportsLeases() {
        return delegate.supportsLeases();
    }

    @Override
    public boolean tryClaim(String segmentId, String owner, long leaseMillis) throws IOException {
        return delegate.tryClaim(segmentId, owner, leaseMillis);
    }

    @Override
    public Set<String> renewLeases(String owner, long leaseMillis) throws IOException {
        return delegate.renewLeases(owner, leaseMillis);
    }

    @Override
    public void releaseLease(String segmentId, String owner) throws IOException {
        delegate.releaseLease(segmentId, owner);
    }

    @Override
    public void releaseLeases(String owner) throws IOException {
        delegate.releaseLeases(owner);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
