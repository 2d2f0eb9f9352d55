package dev.camelbatch.openaibatch.engine.store.file;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.io.PrivateFiles;
import dev.camelbatch.openaibatch.engine.lines.LineReader;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file store's history: one JSON line per finished segment in {@code history.jsonl} (rotated to
 * {@code history.1.jsonl} past 16 MB), the last 200 also in memory. Not thread-safe: the store calls it under its lock.
 */
final class FileHistory {

    private static final Logger LOG = LoggerFactory.getLogger(FileBatchStore.class);
    private static final int IN_MEMORY = 200;
    private static final long ROTATE_BYTES = 16L * 1024 * 1024;

    private final Path file;
    private final Path rotated;
    private final ObjectMapper mapper;
    private final Deque<SegmentInfo> recent = new ArrayDeque<>();

    FileHistory(Path dir, ObjectMapper mapper) {
        this.file = dir.resolve("history.jsonl");
        this.rotated = dir.resolve("history.1.jsonl");
        this.mapper = mapper;
    }

    /** Reads the last records of the file (unreadable lines are skipped). */
    void load() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try (InputStream in = Files.newInputStream(file)) {
            LineReader.forEachLine(in, 1 << 16, 1 << 20, line -> {
                try {
                    remember(mapper.readValue(line, SegmentInfo.class));
                } catch (IOException e) {
                    LOG.debug("Skipping unreadable history line: {}", e.getMessage());
                }
            });
        }
    }

    /** Appends the record of a finished segment. */
    void append(SegmentInfo s) throws IOException {
        if (Files.exists(file) && Files.size(file) > ROTATE_BYTES) {
            Files.move(file, rotated, StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.exists(file)) {
            PrivateFiles.createFile(file);
        }
        byte[] json = mapper.writeValueAsBytes(s);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer b = ByteBuffer.allocate(json.length + 1);
            b.put(json).put((byte) '\n').flip();
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
        remember(s);
    }

    /** The last {@code max} records, oldest first. */
    List<SegmentInfo> recent(int max) {
        List<SegmentInfo> all = new ArrayList<>(recent);
        return new ArrayList<>(all.subList(Math.max(0, all.size() - max), all.size()));
    }

    private void remember(SegmentInfo s) {
        recent.addLast(s);
        while (recent.size() > IN_MEMORY) {
            recent.removeFirst();
        }
    }
}
