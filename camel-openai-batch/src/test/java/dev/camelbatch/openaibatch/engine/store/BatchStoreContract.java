package dev.camelbatch.openaibatch.engine.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.api.OpenAIJson;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.jdbc.JdbcBatchStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * What every {@link BatchStore} must do, run against each implementation: append, sealing by the limits,
 * duplicates, all-or-nothing documents, restart, state transitions, checkpoints, completion, history, and (for the
 * stores shared by several nodes) leases with expiry and takeover.
 */
@Timeout(300)
public abstract class BatchStoreContract {

    public static final ObjectMapper MAPPER = OpenAIJson.mapper();
    public static final SegmentLimits ROOMY = new SegmentLimits(50_000, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);

    @TempDir
    public Path tmp;

    private final List<BatchStore> opened = new ArrayList<>();
    private static final AtomicInteger NAMES = new AtomicInteger();
    private String name;

    /** A started store of the name over this test's backing storage (a second call is a restart or a second node). */
    protected abstract BatchStore create(String name) throws Exception;

    /** Whether the store is shared by nodes (leases, fencing). */
    protected abstract boolean shared();

    /** The milliseconds left on a segment's recorded lease, in the store's clock (stores shared by nodes). */
    protected long leaseMillisLeft(String segmentId) throws Exception {
        throw new UnsupportedOperationException("no leases in this store");
    }

    /**
     * Moves a segment's recorded lease expiry into the past, as time passing without renewals does (stores shared by
     * nodes): lease expiry is tested on what the store recorded, never by sleeping across a short lease.
     */
    protected void expireLease(String segmentId) throws Exception {
        throw new UnsupportedOperationException("no leases in this store");
    }

    protected BatchStore open() throws Exception {
        if (name == null) {
            name = "contract-" + NAMES.incrementAndGet();
        }
        BatchStore s = create(name);
        opened.add(s);
        return s;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(BatchStore::close);
    }

    public static SpoolRecord rec(String id) {
        return rec(id, 3, null);
    }

    public static SpoolRecord rec(String id, int tokens, String carried) {
        String line = "{\"custom_id\":\"" + id + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                      + "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi "
                      + id + "\"}]}}";
        return new SpoolRecord(id, line.getBytes(StandardCharsets.UTF_8),
                carried != null ? carried.getBytes(StandardCharsets.UTF_8) : null, tokens);
    }

    public static List<String> lines(BatchStore store, String segmentId) throws Exception {
        List<String> out = new ArrayList<>();
        store.readRequests(segmentId, l -> out.add(new String(l, StandardCharsets.UTF_8)));
        return out;
    }

    public static List<String> ids(BatchStore store, String segmentId) throws Exception {
        List<String> out = new ArrayList<>();
        store.readRequests(segmentId, l -> out.add(RequestLines.customId(MAPPER, l)));
        return out;
    }

    public static SegmentInfo only(BatchStore store, SegmentStatus status) {
        List<SegmentInfo> l = store.segments().stream().filter(s -> s.getStatus() == status).toList();
        assertThat(l).as("segments in %s", status).hasSize(1);
        return l.get(0);
    }

    // ---------------------------------------------------------------- append and limits

    @Test
    void appendedRequestsAreInTheOpenSegmentInOrder() throws Exception {
        BatchStore store = open();
        assertThat(store.append("/v1/chat/completions", "gpt-4o-mini", List.of(rec("a")), ROOMY)).isEmpty();
        assertThat(store.append("/v1/chat/completions", "gpt-4o-mini", List.of(rec("b"), rec("c")), ROOMY)).isEmpty();
        SegmentInfo s = only(store, SegmentStatus.OPEN);
        assertThat(s.getRequestCount()).isEqualTo(3);
        assertThat(s.getTokens()).isEqualTo(9);
        assertThat(s.getBytes()).isEqualTo(lines(store, s.getId()).stream().mapToLong(l -> l.length() + 1).sum());
        assertThat(s.getName()).isEqualTo(store.name());
        assertThat(s.getModel()).isEqualTo("gpt-4o-mini");
        assertThat(ids(store, s.getId())).containsExactly("a", "b", "c");
        assertThat(store.containsCustomId("b")).isTrue();
        assertThat(store.containsCustomId("z")).isFalse();
        assertThat(store.segment(s.getId()).getRequestCount()).isEqualTo(3);
        assertThat(store.segment("seg-unknown")).isNull();
    }

    @Test
    void modelsAndEndpointsGetSegmentsOfTheirOwn() throws Exception {
        BatchStore store = open();
        store.append("/v1/chat/completions", "m1", List.of(rec("a")), ROOMY);
        store.append("/v1/chat/completions", "m2", List.of(rec("b")), ROOMY);
        store.append("/v1/embeddings", "m1", List.of(rec("c")), ROOMY);
        store.append("/v1/chat/completions", "m1", List.of(rec("d")), ROOMY);
        assertThat(store.segments()).hasSize(3).allMatch(s -> s.getStatus() == SegmentStatus.OPEN);
        SegmentInfo m1 = store.segments().stream()
                .filter(s -> s.getModel().equals("m1") && s.getEndpoint().equals("/v1/chat/completions")).findFirst()
                .orElseThrow();
        assertThat(ids(store, m1.getId())).containsExactly("a", "d");
    }

    @Test
    void sealsAtTheRequestLimitAndReturnsTheSealedIds() throws Exception {
        BatchStore store = open();
        SegmentLimits two = new SegmentLimits(2, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);
        assertThat(store.append("/v1/chat/completions", "m", List.of(rec("a")), two)).isEmpty();
        List<String> sealed = store.append("/v1/chat/completions", "m", List.of(rec("b")), two);
        assertThat(sealed).hasSize(1);
        // five in one call: fills one more (c d), one more (e f) and leaves g open
        List<String> more = store.append("/v1/chat/completions", "m",
                List.of(rec("c"), rec("d"), rec("e"), rec("f"), rec("g")), two);
        assertThat(more).hasSize(2);
        List<SegmentInfo> all = store.segments();
        assertThat(all).extracting(SegmentInfo::getStatus).containsExactly(SegmentStatus.SEALED, SegmentStatus.SEALED,
                SegmentStatus.SEALED, SegmentStatus.OPEN);
        assertThat(all.get(0).getId()).isEqualTo(sealed.get(0));
        assertThat(all.get(0).getSealReason()).isEqualTo("maxRequestsPerBatch");
        assertThat(all.get(0).getSealedAt()).isNotNull();
        assertThat(ids(store, all.get(1).getId())).containsExactly("c", "d");
        assertThat(ids(store, all.get(3).getId())).containsExactly("g");
        assertThat(all.subList(0, 3)).allMatch(s -> s.getRequestCount() == 2);
    }

    @Test
    void sealsBeforeTheByteAndTokenLimits() throws Exception {
        BatchStore store = open();
        int lineBytes = rec("a1").line().length + 1;
        SegmentLimits bytes = new SegmentLimits(100, lineBytes * 2L + 5, 0, 0);
        store.append("/v1/chat/completions", "m", List.of(rec("a1"), rec("a2"), rec("a3")), bytes);
        List<SegmentInfo> all = store.segments();
        assertThat(all).hasSize(2);
        assertThat(all.get(0).getSealReason()).isEqualTo("maxBatchBytes");
        assertThat(all.get(0).getRequestCount()).isEqualTo(2);
        assertThat(all.get(0).getBytes()).isLessThanOrEqualTo(bytes.maxBytes());

        SegmentLimits tokens = new SegmentLimits(100, SegmentLimits.DEFAULT_MAX_BYTES, 10, 0);
        store.append("/v1/chat/completions", "t", List.of(rec("t1", 4, null), rec("t2", 4, null),
                rec("t3", 4, null)), tokens);
        SegmentInfo sealed = store.segments().stream().filter(s -> s.getModel().equals("t")
                && s.getStatus() == SegmentStatus.SEALED).findFirst().orElseThrow();
        assertThat(sealed.getSealReason()).isEqualTo("maxBatchTokens");
        assertThat(sealed.getTokens()).isEqualTo(8);
    }

    @Test
    void sealOpenSealsWhatTheFilterSelects() throws Exception {
        BatchStore store = open();
        store.append("/v1/chat/completions", "m1", List.of(rec("a")), ROOMY);
        store.append("/v1/chat/completions", "m2", List.of(rec("b")), ROOMY);
        List<String> sealed = store.sealOpen(s -> s.getModel().equals("m2"), SealReason.FLUSH);
        assertThat(sealed).hasSize(1);
        SegmentInfo s = store.segment(sealed.get(0));
        assertThat(s.getStatus()).isEqualTo(SegmentStatus.SEALED);
        assertThat(s.getSealReason()).isEqualTo("flush");
        assertThat(s.getRequestCount()).isEqualTo(1);
        assertThat(store.sealOpen(x -> true, SealReason.FLUSH)).hasSize(1);
        assertThat(store.sealOpen(x -> true, SealReason.FLUSH)).isEmpty();
        // a new request opens a new segment
        store.append("/v1/chat/completions", "m1", List.of(rec("c")), ROOMY);
        assertThat(only(store, SegmentStatus.OPEN).getRequestCount()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- duplicates

    @Test
    void duplicateCustomIdsAreRefusedAndNothingOfTheCallIsStored() throws Exception {
        BatchStore store = open();
        store.append("/v1/chat/completions", "m", List.of(rec("a")), ROOMY);
        assertThatThrownBy(() -> store.append("/v1/chat/completions", "m", List.of(rec("a")), ROOMY))
                .isInstanceOf(DuplicateCustomIdException.class)
                .satisfies(e -> assertThat(((DuplicateCustomIdException) e).getCustomId()).isEqualTo("a"));
        // another model or endpoint does not matter: ids are unique per name
        assertThatThrownBy(() -> store.append("/v1/embeddings", "other", List.of(rec("a")), ROOMY))
                .isInstanceOf(DuplicateCustomIdException.class);
        assertThatThrownBy(() -> store.append("/v1/chat/completions", "m", List.of(rec("b"), rec("a")), ROOMY))
                .isInstanceOf(DuplicateCustomIdException.class).hasMessageContaining("line 2");
        assertThatThrownBy(() -> store.append("/v1/chat/completions", "m", List.of(rec("c"), rec("c")), ROOMY))
                .isInstanceOf(DuplicateCustomIdException.class).hasMessageContaining("repeats");
        assertThat(store.containsCustomId("b")).isFalse();
        assertThat(store.containsCustomId("c")).isFalse();
        assertThat(only(store, SegmentStatus.OPEN).getRequestCount()).isEqualTo(1);
        // the same id under another name is fine
        BatchStore other = create(store.name() + "-other");
        opened.add(other);
        other.append("/v1/chat/completions", "m", List.of(rec("a")), ROOMY);
    }

    @Test
    void concurrentProducersAllLandAndOneDuplicateWins() throws Exception {
        BatchStore store = open();
        SegmentLimits limits = new SegmentLimits(500, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);
        int threads = 8;
        int each = 250;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger dupWins = new AtomicInteger();
        AtomicInteger dupLosses = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int tt = t;
            futures.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < each; i++) {
                    store.append("/v1/chat/completions", "m", List.of(rec("t" + tt + "-" + i)), limits);
                    try {
                        store.append("/v1/chat/completions", "m", List.of(rec("shared-" + i)), limits);
                        dupWins.incrementAndGet();
                    } catch (DuplicateCustomIdException e) {
                        dupLosses.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(dupWins.get()).isEqualTo(each);
        assertThat(dupLosses.get()).isEqualTo(each * (threads - 1));
        Set<String> seen = new HashSet<>();
        long total = 0;
        for (SegmentInfo s : store.segments()) {
            List<String> l = ids(store, s.getId());
            assertThat(l).hasSize(s.getRequestCount());
            assertThat(s.getRequestCount()).isLessThanOrEqualTo(500);
            seen.addAll(l);
            total += l.size();
        }
        assertThat(total).isEqualTo((long) threads * each + each);
        assertThat(seen).hasSize(threads * each + each);
        if (store instanceof JdbcBatchStore jdbc) {
            // group commit: producers arriving together share transactions
            assertThat(jdbc.appendTransactions()).isLessThan(2L * threads * each);
        }
    }

    // ---------------------------------------------------------------- documents

    @Test
    void aDocumentIsAllOrNothing() throws Exception {
        BatchStore store = open();
        SegmentLimits limits = new SegmentLimits(1000, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);
        store.append("/v1/chat/completions", "m", List.of(rec("single-0")), limits);
        int n = 2_500;
        try (BatchStore.DocumentAppender doc = store.beginDocument("/v1/chat/completions", limits)) {
            for (int i = 0; i < n; i++) {
                doc.add(i % 5 == 0 ? "m2" : "m", rec("doc-" + i), i + 1);
            }
            // nothing is visible before the commit
            assertThat(store.segments()).hasSize(1);
        }
        // closed without a commit: nothing stayed, every id is free
        assertThat(store.segments()).hasSize(1);
        assertThat(store.containsCustomId("doc-7")).isFalse();

        List<String> sealed;
        try (BatchStore.DocumentAppender doc = store.beginDocument("/v1/chat/completions", limits)) {
            for (int i = 0; i < n; i++) {
                doc.add(i % 5 == 0 ? "m2" : "m", rec("doc-" + i), i + 1);
            }
            sealed = doc.commit(false);
        }
        long total = store.segments().stream().mapToLong(SegmentInfo::getRequestCount).sum();
        assertThat(total).isEqualTo(n + 1);
        // m: 2000 lines = two full segments; m2: 500 lines, stays open (no open segment of m2 before)
        assertThat(sealed).hasSize(2);
        assertThat(store.segments().stream().filter(s -> s.getModel().equals("m2")).toList())
                .singleElement().satisfies(s -> {
                    assertThat(s.getStatus()).isEqualTo(SegmentStatus.OPEN);
                    assertThat(s.getRequestCount()).isEqualTo(500);
                });
        assertThat(store.containsCustomId("doc-2499")).isTrue();
        // the open m2 segment takes the next single request
        store.append("/v1/chat/completions", "m2", List.of(rec("after")), limits);
        assertThat(store.segments().stream().filter(s -> s.getModel().equals("m2")).toList())
                .singleElement().satisfies(s -> assertThat(s.getRequestCount()).isEqualTo(501));
    }

    @Test
    void aDocumentWithADuplicateIsRefusedNamingTheLine() throws Exception {
        BatchStore store = open();
        store.append("/v1/chat/completions", "m", List.of(rec("taken")), ROOMY);
        int dupLine = 1_500;
        long reported = -1;
        try (BatchStore.DocumentAppender doc = store.beginDocument("/v1/chat/completions", ROOMY)) {
            for (int i = 1; i <= 2_000; i++) {
                try {
                    doc.add("m", rec(i == dupLine ? "taken" : "d-" + i), i);
                } catch (DuplicateCustomIdException e) {
                    reported = e.getLineNumber() > 0 ? e.getLineNumber() : i;
                    break;
                }
            }
            if (reported < 0) {
                try {
                    doc.commit(false);
                } catch (DuplicateCustomIdException e) {
                    reported = e.getLineNumber();
                }
            }
        }
        assertThat(reported).isEqualTo(dupLine);
        assertThat(store.containsCustomId("d-1")).isFalse();
        assertThat(only(store, SegmentStatus.OPEN).getRequestCount()).isEqualTo(1);

        try (BatchStore.DocumentAppender doc = store.beginDocument("/v1/chat/completions", ROOMY)) {
            doc.add("m", rec("x"), 1);
            assertThatThrownBy(() -> doc.add("m", rec("x"), 3)).isInstanceOf(DuplicateCustomIdException.class)
                    .hasMessageContaining("repeats an earlier line");
        }
        assertThat(store.containsCustomId("x")).isFalse();
    }

    @Test
    void flushedDocumentsAreSealed() throws Exception {
        BatchStore store = open();
        List<String> sealed;
        try (BatchStore.DocumentAppender doc = store.beginDocument("/v1/chat/completions", ROOMY)) {
            doc.add("m", rec("a"), 1);
            doc.add("m", rec("b"), 2);
            sealed = doc.commit(true);
        }
        assertThat(sealed).hasSize(1);
        SegmentInfo s = store.segment(sealed.get(0));
        assertThat(s.getStatus()).isEqualTo(SegmentStatus.SEALED);
        assertThat(s.getSealReason()).isEqualTo("flush");
        assertThat(ids(store, s.getId())).containsExactly("a", "b");
    }

    @Test
    void aPreparedDocumentBecomesVisibleInItsPreparedState() throws Exception {
        BatchStore store = open();
        List<SegmentInfo> made;
        try (BatchStore.DocumentAppender doc = store.beginDocument("/v1/chat/completions", ROOMY)) {
            doc.add("m", rec("p1"), 1);
            doc.add("m", rec("p2"), 2);
            made = doc.commitPrepared(s -> {
                s.setStatus(SegmentStatus.UPLOADING);
                s.setUploadFilename("prepared.jsonl");
                s.setNotBefore(System.currentTimeMillis() + 60_000);
            });
        }
        assertThat(made).singleElement().satisfies(s -> assertThat(s.getStatus()).isEqualTo(SegmentStatus.UPLOADING));
        SegmentInfo read = store.segment(made.get(0).getId());
        assertThat(read.getStatus()).isEqualTo(SegmentStatus.UPLOADING);
        assertThat(read.getUploadFilename()).isEqualTo("prepared.jsonl");
        assertThat(read.getRequestCount()).isEqualTo(2);
        assertThat(ids(store, read.getId())).containsExactly("p1", "p2");
    }

    // ---------------------------------------------------------------- restart

    @Test
    void aRestartedStoreHasEverythingAndGoesOnAppendingToTheOpenSegment() throws Exception {
        BatchStore first = open();
        SegmentLimits three = new SegmentLimits(3, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);
        first.append("/v1/chat/completions", "m", List.of(rec("a"), rec("b"), rec("c"), rec("d", 3, "{\"k\":1}")),
                three);
        SegmentInfo sealed = only(first, SegmentStatus.SEALED);
        sealed.setStatus(SegmentStatus.UPLOADING);
        sealed.setUploadFilename("f.jsonl");
        first.update(sealed);
        first.close();

        BatchStore second = open();
        assertThat(second.segments()).hasSize(2);
        SegmentInfo up = second.segment(sealed.getId());
        assertThat(up.getStatus()).isEqualTo(SegmentStatus.UPLOADING);
        assertThat(up.getUploadFilename()).isEqualTo("f.jsonl");
        assertThat(ids(second, up.getId())).containsExactly("a", "b", "c");
        second.append("/v1/chat/completions", "m", List.of(rec("e")), three);
        SegmentInfo open = only(second, SegmentStatus.OPEN);
        assertThat(ids(second, open.getId())).containsExactly("d", "e");
        assertThat(open.getRequestCount()).isEqualTo(2);
        assertThat(second.carriedHeaders(open.getId())).containsOnlyKeys("d");
        assertThatThrownBy(() -> second.append("/v1/chat/completions", "m", List.of(rec("a")), three))
                .isInstanceOf(DuplicateCustomIdException.class);
    }

    // ---------------------------------------------------------------- transitions, files, checkpoints

    @Test
    void stateTransitionsArePersistedAndOpenOrUnknownSegmentsRefused() throws Exception {
        BatchStore store = open();
        store.append("/v1/chat/completions", "m", List.of(rec("a")), ROOMY);
        SegmentInfo open = only(store, SegmentStatus.OPEN);
        open.setStatus(SegmentStatus.UPLOADING);
        assertThatThrownBy(() -> store.update(open)).isInstanceOf(IllegalStateException.class);
        String id = store.sealOpen(s -> true, SealReason.FLUSH).get(0);
        SegmentInfo s = store.segment(id);
        s.setStatus(SegmentStatus.SUBMITTED);
        s.setInputFileId("file-1");
        s.setBatchId("batch_1");
        s.setBatchStatus("in_progress");
        s.setCompleted(1);
        s.setLastError("x".repeat(5000));
        store.update(s);
        SegmentInfo read = store.segment(id);
        assertThat(read.getStatus()).isEqualTo(SegmentStatus.SUBMITTED);
        assertThat(read.getBatchId()).isEqualTo("batch_1");
        assertThat(read.getInputFileId()).isEqualTo("file-1");
        assertThat(read.getCompleted()).isEqualTo(1);
        assertThat(read.getLastError()).hasSize(5000);
        assertThat(read.getRequestCount()).isEqualTo(1);
        SegmentInfo unknown = s.copy();
        unknown.setId("seg-none");
        assertThatThrownBy(() -> store.update(unknown)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void theUploadFileIsTheJsonlOfTheSegment() throws Exception {
        BatchStore store = open();
        List<SpoolRecord> recs = new ArrayList<>();
        for (int i = 0; i < 2_345; i++) {
            recs.add(rec("u-" + i, 1, i % 2 == 0 ? "{\"n\":" + i + "}" : null));
        }
        store.append("/v1/chat/completions", "m", recs, ROOMY);
        String id = store.sealOpen(s -> true, SealReason.FLUSH).get(0);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (SpoolRecord r : recs) {
            expected.write(r.line());
            expected.write('\n');
        }
        Path file = store.uploadFile(id);
        assertThat(Files.readAllBytes(file)).isEqualTo(expected.toByteArray());
        store.releaseUploadFile(id, file);
        if (shared()) {
            assertThat(file).doesNotExist();
        }
        Map<String, byte[]> carried = store.carriedHeaders(id);
        assertThat(carried).hasSize(1_173);
        assertThat(new String(carried.get("u-42"), StandardCharsets.UTF_8)).isEqualTo("{\"n\":42}");
    }

    @Test
    void checkpointsSurviveARestart() throws Exception {
        BatchStore store = open();
        store.append("/v1/chat/completions", "m", List.of(rec("a"), rec("b")), ROOMY);
        String id = store.sealOpen(s -> true, SealReason.FLUSH).get(0);
        SegmentInfo s = store.segment(id);
        s.setStatus(SegmentStatus.FINISHED);
        store.update(s);
        for (int i = 1; i <= 50; i++) {
            store.checkpoint(id, i, i / 10, 0);
        }
        assertThat(store.segment(id).getEmittedOutput()).isEqualTo(50);
        store.close();
        BatchStore again = open();
        SegmentInfo read = again.segment(id);
        assertThat(read.getEmittedOutput()).isEqualTo(50);
        assertThat(read.getEmittedErrors()).isEqualTo(5);
        if (shared()) {
            // a state write with older counts does not move the checkpoint back
            again.update(s);
            assertThat(again.segment(id).getEmittedOutput()).isEqualTo(50);
        }
    }

    @Test
    void theInOrderMarkerOfACheckpointSurvivesARestartAndStateWrites() throws Exception {
        BatchStore store = open();
        store.append("/v1/chat/completions", "m", List.of(rec("a"), rec("b")), ROOMY);
        String id = store.sealOpen(s -> true, SealReason.FLUSH).get(0);
        SegmentInfo s = store.segment(id);
        s.setStatus(SegmentStatus.FINISHED);
        store.update(s);
        store.checkpoint(id, 1, SegmentInfo.EMITTED_IN_ORDER, 0);
        // a state write that still carries the old counts must not take the marker away
        store.update(s);
        store.checkpoint(id, 2, SegmentInfo.EMITTED_IN_ORDER, 0);
        assertThat(store.segment(id).getEmittedErrors()).isEqualTo(SegmentInfo.EMITTED_IN_ORDER);
        store.close();
        SegmentInfo read = open().segment(id);
        assertThat(read.getEmittedOutput()).isEqualTo(2);
        assertThat(read.getEmittedErrors()).isEqualTo(SegmentInfo.EMITTED_IN_ORDER);
        assertThat(read.getLinesDelivered()).isEqualTo(2);
    }

    @Test
    void completionKeepsACompactRecordAndFreesTheIds() throws Exception {
        BatchStore store = open();
        for (int k = 0; k < 3; k++) {
            store.append("/v1/chat/completions", "m", List.of(rec("a" + k), rec("b" + k)), ROOMY);
            String id = store.sealOpen(s -> true, SealReason.FLUSH).get(0);
            SegmentInfo s = store.segment(id);
            s.setStatus(SegmentStatus.FINISHED);
            s.setBatchId("batch_" + k);
            store.update(s);
            store.checkpoint(id, 2, 0, 0);
            store.complete(store.segment(id));
            assertThat(store.segment(id)).isNull();
        }
        assertThat(store.segments()).isEmpty();
        List<SegmentInfo> h = store.history(2);
        assertThat(h).extracting(SegmentInfo::getBatchId).containsExactly("batch_1", "batch_2");
        assertThat(h).allMatch(s -> s.getStatus() == SegmentStatus.DONE && s.getEmittedOutput() == 2);
        assertThat(store.history(10)).hasSize(3);
        // the ids are free again
        store.append("/v1/chat/completions", "m", List.of(rec("a0")), ROOMY);
        assertThat(store.containsCustomId("a0")).isTrue();
        store.close();
        assertThat(open().history(10)).hasSize(3);
    }

    @Test
    void aRetrySegmentHoldsTheFailedRequestsOfItsParent() throws Exception {
        BatchStore store = open();
        store.append("/v1/chat/completions", "m", List.of(rec("a"), rec("b", 3, "{\"h\":\"b\"}"), rec("c")), ROOMY);
        String parentId = store.sealOpen(s -> true, SealReason.FLUSH).get(0);
        SegmentInfo parent = store.segment(parentId);
        parent.setStatus(SegmentStatus.FINISHED);
        store.update(parent);
        SegmentInfo retry = store.createSealedSegment("/v1/chat/completions", "m", 2, parentId,
                List.of(rec("b", 3, "{\"h\":\"b\"}"), rec("c")));
        assertThat(retry.getStatus()).isEqualTo(SegmentStatus.SEALED);
        assertThat(retry.getAttempt()).isEqualTo(2);
        assertThat(retry.getParentId()).isEqualTo(parentId);
        assertThat(retry.getRequestCount()).isEqualTo(2);
        assertThat(ids(store, retry.getId())).containsExactly("b", "c");
        assertThat(store.carriedHeaders(retry.getId())).containsOnlyKeys("b");
        // the parent keeps its lines for its own emission
        assertThat(ids(store, parentId)).containsExactly("a", "b", "c");
        assertThat(store.segments()).extracting(SegmentInfo::getId).containsExactly(parentId, retry.getId());
        assertThat(store.containsCustomId("b")).isTrue();
        if (shared()) {
            // the retried ids stay taken after the parent is done
            store.complete(store.segment(parentId));
            assertThat(store.containsCustomId("a")).isFalse();
            assertThat(store.containsCustomId("b")).isTrue();
            assertThatThrownBy(() -> store.append("/v1/chat/completions", "m", List.of(rec("c")), ROOMY))
                    .isInstanceOf(DuplicateCustomIdException.class);
        }
    }

    // ---------------------------------------------------------------- leases

    @Test
    void withoutLeasesEveryClaimSucceeds() throws Exception {
        assumeThat(shared()).isFalse();
        BatchStore store = open();
        assertThat(store.supportsLeases()).isFalse();
        assertThat(store.tryClaim("seg-x", "node-a", 1000)).isTrue();
        assertThat(store.renewLeases("node-a", 1000)).isEmpty();
    }

    @Test
    void aLeaseIsHeldByOneNodeUntilItExpiresAndIsThenTakenOver() throws Exception {
        assumeThat(shared()).isTrue();
        BatchStore a = open();
        BatchStore b = open();
        assertThat(a.supportsLeases()).isTrue();
        a.append("/v1/chat/completions", "m", List.of(rec("a"), rec("b")), ROOMY);
        // an open segment is nobody's
        String openId = only(a, SegmentStatus.OPEN).getId();
        assertThat(a.tryClaim(openId, "node-a", 10_000)).isFalse();
        String id = a.sealOpen(s -> true, SealReason.FLUSH).get(0);

        assertThat(a.tryClaim(id, "node-a", 60_000)).isTrue();
        assertThat(leaseMillisLeft(id)).as("the lease recorded for its duration").isBetween(1L, 60_000L);
        assertThat(b.segments()).hasSize(1);
        assertThat(b.tryClaim(id, "node-b", 10_000)).isFalse();
        assertThat(a.tryClaim(id, "node-a", 120_000)).as("the holder extends").isTrue();
        assertThat(leaseMillisLeft(id)).as("extended").isBetween(60_001L, 120_000L);
        assertThat(a.renewLeases("node-a", 600_000)).containsExactly(id);
        assertThat(leaseMillisLeft(id)).as("renewed").isBetween(120_001L, 600_000L);
        assertThat(b.tryClaim(id, "node-b", 10_000)).as("a lease that has not expired").isFalse();
        SegmentInfo s = a.segment(id);
        s.setStatus(SegmentStatus.UPLOADING);
        a.update(s);

        // node-a stops renewing and its lease runs out; node-b, reading the segments as its engine does every
        // cycle, takes the segment over from its recorded state
        expireLease(id);
        assertThat(leaseMillisLeft(id)).as("expired").isNegative();
        assertThat(b.segments()).hasSize(1);
        assertThat(b.tryClaim(id, "node-b", 10_000)).isTrue();
        assertThat(leaseMillisLeft(id)).as("node-b's new lease").isBetween(1L, 10_000L);
        assertThat(b.segment(id).getStatus()).isEqualTo(SegmentStatus.UPLOADING);
        assertThat(a.renewLeases("node-a", 10_000)).as("a lease taken over is not renewed").isEmpty();
        assertThat(a.tryClaim(id, "node-a", 10_000)).isFalse();

        // node-a's late changes are refused (fenced)
        s.setStatus(SegmentStatus.UPLOADED);
        assertThatThrownBy(() -> a.update(s)).isInstanceOf(LeaseLostException.class).hasMessageContaining("node-b");
        assertThatThrownBy(() -> a.checkpoint(id, 1, 0, 0)).isInstanceOf(LeaseLostException.class);
        assertThatThrownBy(() -> a.complete(s)).isInstanceOf(LeaseLostException.class);
        assertThat(b.segment(id).getStatus()).isEqualTo(SegmentStatus.UPLOADING);

        // node-b's work goes on
        SegmentInfo bs = b.segment(id);
        bs.setStatus(SegmentStatus.FINISHED);
        b.update(bs);
        b.checkpoint(id, 2, 0, 0);
        assertThat(b.renewLeases("node-b", 10_000)).containsExactly(id);

        // released (a node stopping): claimable at once
        b.releaseLeases("node-b");
        assertThat(a.tryClaim(id, "node-a", 10_000)).isTrue();
        a.releaseLease(id, "node-a");
        assertThat(b.tryClaim(id, "node-b", 10_000)).isTrue();
        b.complete(b.segment(id));
        assertThat(a.segments()).isEmpty();
        assertThat(a.tryClaim(id, "node-a", 10_000)).as("a completed segment is gone").isFalse();
    }

    @Test
    void twoNodesRacingForTheSameSegmentsNeverBothWin() throws Exception {
        assumeThat(shared()).isTrue();
        BatchStore a = open();
        BatchStore b = open();
        SegmentLimits one = new SegmentLimits(1, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);
        List<String> sealed = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            sealed.addAll(a.append("/v1/chat/completions", "m", List.of(rec("r" + i)), one));
        }
        assertThat(sealed).hasSize(40);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Future<List<String>> fa = pool.submit(() -> claimAll(a, sealed, "node-a"));
        Future<List<String>> fb = pool.submit(() -> claimAll(b, sealed, "node-b"));
        List<String> wonA = fa.get(60, TimeUnit.SECONDS);
        List<String> wonB = fb.get(60, TimeUnit.SECONDS);
        pool.shutdown();
        Set<String> both = new HashSet<>(wonA);
        both.retainAll(wonB);
        assertThat(both).as("segments claimed by both nodes").isEmpty();
        assertThat(wonA.size() + wonB.size()).isEqualTo(40);
        assertThat(((JdbcBatchStore) a).leaseHolders().values()).allMatch(o -> o.equals("node-a")
                || o.equals("node-b"));
    }

    private static List<String> claimAll(BatchStore store, List<String> ids, String owner) throws Exception {
        List<String> won = new ArrayList<>();
        for (String id : ids) {
            // a claim skipped because the row is locked by the other node's claim at this instant is tried again
            for (int i = 0; i < 3; i++) {
                if (store.tryClaim(id, owner, 60_000)) {
                    won.add(id);
                    break;
                }
                store.segments();
            }
        }
        return won;
    }
}
