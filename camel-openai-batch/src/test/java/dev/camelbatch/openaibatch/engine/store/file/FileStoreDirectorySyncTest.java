package dev.camelbatch.openaibatch.engine.store.file;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.MAPPER;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.ROOMY;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.rec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Under {@code syncPolicy=ALWAYS} the file store forces the segments directory to disk after it creates a segment's
 * files and after it renames a state file into place, before the call returns (a new name is only durable once its
 * directory is); under the other policies it does not. The directory syncs are observed through the store's seam,
 * each with the names the directory held at that moment.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FileStoreDirectorySyncTest {

    @TempDir
    Path tmp;

    /** The names in the directory at each sync. */
    private final List<Set<String>> syncs = new CopyOnWriteArrayList<>();
    private FileBatchStore store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private FileBatchStore open(SyncPolicy policy) throws IOException {
        store = new FileBatchStore(tmp.resolve("store"), "dir-sync", policy, 60_000, MAPPER);
        store.directorySync(dir -> {
            try (Stream<Path> names = Files.list(dir)) {
                syncs.add(names.map(p -> p.getFileName().toString()).collect(Collectors.toSet()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        store.start();
        syncs.clear();
        return store;
    }

    /** Whether a sync happened while the directory held every one of the names. */
    private boolean syncedWith(String... names) {
        return syncs.stream().anyMatch(s -> s.containsAll(List.of(names)));
    }

    @Test
    void alwaysSyncsTheDirectoryAfterCreatingSegmentFilesAndRenamingStates() throws Exception {
        open(SyncPolicy.ALWAYS);
        // a new open segment: its state file, then its data and carry files
        store.append("/v1/chat/completions", "gpt-4o-mini", List.of(rec("a1", 3, "{\"k\":\"v\"}")), ROOMY);
        String id = store.segments().get(0).getId();
        assertThat(syncedWith(id + ".state.json", id + ".jsonl", id + ".carry.jsonl"))
                .as("a sync after the segment's files were created: %s", syncs).isTrue();

        int before = syncs.size();
        store.sealOpen(s -> true, SealReason.FLUSH);
        assertThat(syncs.size()).as("the SEALED state renamed into place").isGreaterThan(before);

        before = syncs.size();
        SegmentInfo sealed = store.segment(id);
        SegmentLifecycle.restore(sealed, SegmentStatus.UPLOADING);
        store.update(sealed);
        assertThat(syncs.size()).as("an updated state renamed into place").isGreaterThan(before);

        // a document's segments, and a retry segment written in one go
        try (BatchStore.DocumentAppender doc = store.beginDocument("/v1/chat/completions", ROOMY)) {
            doc.add("gpt-4o-mini", rec("d1"));
            List<String> docSegments = doc.commit(true);
            String d = docSegments.get(0);
            assertThat(syncedWith(d + ".state.json", d + ".jsonl")).isTrue();
        }
        SegmentInfo retry = store.createSealedSegment("/v1/chat/completions", "gpt-4o-mini", 2, id,
                List.of(rec("r1")));
        assertThat(syncedWith(retry.getId() + ".state.json", retry.getId() + ".jsonl")).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = SyncPolicy.class, names = { "INTERVAL", "NEVER" })
    void otherPoliciesLeaveTheDirectoryToTheOperatingSystem(SyncPolicy policy) throws Exception {
        open(policy);
        store.append("/v1/chat/completions", "gpt-4o-mini", List.of(rec("a1", 3, "{\"k\":\"v\"}")), ROOMY);
        store.sealOpen(s -> true, SealReason.FLUSH);
        SegmentInfo s = store.segments().get(0);
        SegmentLifecycle.restore(s, SegmentStatus.UPLOADING);
        store.update(s);
        store.createSealedSegment("/v1/chat/completions", "gpt-4o-mini", 2, s.getId(), List.of(rec("r1")));
        assertThat(syncs).isEmpty();
    }

    @Test
    void theDefaultSyncOpensTheDirectory() throws Exception {
        // on Linux a directory opens for reading and forces; where it cannot be opened the call does nothing
        Path dir = Files.createDirectory(tmp.resolve("d"));
        Files.createFile(dir.resolve("f"));
        FileBatchStore.FSYNC_DIRECTORY.sync(dir);
        FileBatchStore.FSYNC_DIRECTORY.sync(tmp.resolve("missing"));
    }
}
