package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Files on disk plus their metadata. Thread-safe. */
final class FileStore {

    /** Default retention of batch input and output files (the API's 30 days). */
    static final long DEFAULT_BATCH_FILE_TTL_SECONDS = 30L * 24 * 3600;

    private final Path dir;
    private final Path work;
    private final Clock clock;
    private final Map<String, StoredFile> files = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();

    FileStore(Path dir, Clock clock) {
        this.dir = dir;
        this.work = dir.resolve("work");
        this.clock = clock;
        try {
            Files.createDirectories(work);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create storage directory " + dir, e);
        }
    }

    Path dir() {
        return dir;
    }

    /** A fresh temporary file in the work directory (for uploads in flight and batch spools). */
    Path newTempFile(String prefix) throws IOException {
        return Files.createTempFile(work, prefix, ".tmp");
    }

    /** Moves {@code source} into the store under a new file id and registers it. */
    StoredFile add(Path source, String filename, String purpose, Long ttlSeconds) throws IOException {
        String id = Ids.file();
        Path target = dir.resolve(id + ".dat");
        Files.move(source, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        long created = Ids.nowSeconds(clock);
        StoredFile f = new StoredFile(id, seq.incrementAndGet(), filename, purpose, Files.size(target), created,
                ttlSeconds == null ? null : created + ttlSeconds, target);
        files.put(id, f);
        return f;
    }

    StoredFile get(String id) {
        return files.get(id);
    }

    StoredFile require(String id) {
        StoredFile f = id == null ? null : files.get(id);
        if (f == null) {
            throw ApiException.notFound("No such File object: " + id, "id");
        }
        return f;
    }

    StoredFile delete(String id) {
        StoredFile f = files.remove(id);
        if (f != null) {
            deleteQuietly(f.path());
        }
        return f;
    }

    int count() {
        return files.size();
    }

    long bytes() {
        long sum = 0;
        for (StoredFile f : files.values()) {
            sum += f.bytes();
        }
        return sum;
    }

    /** ListFilesResponse. */
    ObjectNode list(String purpose, int limit, boolean ascending, String after) {
        List<StoredFile> all = new ArrayList<>(files.values());
        Comparator<StoredFile> cmp = Comparator.comparingLong(StoredFile::createdAt).thenComparingLong(StoredFile::seq);
        all.sort(ascending ? cmp : cmp.reversed());
        if (purpose != null) {
            all.removeIf(f -> !f.purpose().equals(purpose));
        }
        int from = 0;
        if (after != null) {
            StoredFile cursor = files.get(after);
            if (cursor == null) {
                // unknown (or meanwhile deleted) cursor: nothing comes after it
                from = all.size();
            } else {
                from = all.size();
                for (int i = 0; i < all.size(); i++) {
                    int c = cmp.compare(all.get(i), cursor);
                    if (ascending ? c > 0 : c < 0) {
                        from = i;
                        break;
                    }
                }
            }
        }
        int to = (int) Math.min(all.size(), (long) from + limit);
        List<StoredFile> page = all.subList(Math.min(from, to), to);
        ObjectNode out = Json.object();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        page.forEach(f -> data.add(f.toJson()));
        Json.putString(out, "first_id", page.isEmpty() ? null : page.get(0).id());
        Json.putString(out, "last_id", page.isEmpty() ? null : page.get(page.size() - 1).id());
        out.put("has_more", to < all.size());
        return out;
    }

    /** Deletes every stored file and forgets it. */
    void clear() {
        for (String id : new ArrayList<>(files.keySet())) {
            delete(id);
        }
        try (var s = Files.list(work)) {
            s.forEach(FileStore::deleteQuietly);
        } catch (IOException ignored) {
            // best effort
        }
    }

    static void deleteQuietly(Path p) {
        if (p == null) {
            return;
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
