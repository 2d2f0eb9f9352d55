package dev.camelbatch.openaibatch.engine.store.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The spool's memory-mapped appends (Linux): what a file holds while mapped, when finished, and what a store
 * recovers from files left as a killed JVM leaves them (a zero-filled tail, a torn line inside it).
 */
@Timeout(600)
class MappedSpoolTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final SegmentLimits ROOMY = new SegmentLimits(50_000, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);

    @TempDir
    Path tmp;

    @Test
    void appendsAcrossWindowsAndCutsTheFileWhenFinished() throws IOException {
        assumeTrue(AppendFile.mappingSupported(), "memory-mapped appends are used on Linux only");
        Path p = tmp.resolve("data.jsonl");
        Files.createFile(p);
        AppendFile f = AppendFile.open(p, true);
        // lines of many lengths, the largest longer than a window, so that lines cross window ends
        List<byte[]> lines = new ArrayList<>();
        long expected = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] line = ("{\"custom_id\":\"" + i + "\",\"pad\":\"" + "x".repeat(i % 7 == 0 ? 9000 : i % 300) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            lines.add(line);
            expected += line.length + 1;
        }
        byte[] huge = ("{\"custom_id\":\"huge\",\"pad\":\"" + "y".repeat((int) AppendFile.WINDOW + 1000) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        lines.add(1500, huge);
        expected += huge.length + 1;
        for (byte[] l : lines) {
            f.appendLine(l);
        }
        assertThat(f.length()).isEqualTo(expected);
        // while mapped the file runs on with zeros after the data
        assertThat(Files.size(p)).isGreaterThan(expected);
        byte[] raw = Files.readAllBytes(p);
        for (long i = expected; i < raw.length; i++) {
            assertThat(raw[(int) i]).isZero();
        }
        f.close();
        assertThat(Files.size(p)).isEqualTo(expected);
        List<String> read = Files.readAllLines(p, StandardCharsets.UTF_8);
        assertThat(read).hasSize(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            assertThat(read.get(i)).isEqualTo(new String(lines.get(i), StandardCharsets.UTF_8));
        }
        // a file opened again appends after its data
        AppendFile again = AppendFile.open(p, true);
        again.append(ByteBuffer.wrap("{\"custom_id\":\"last\"}\n".getBytes(StandardCharsets.UTF_8)));
        again.close();
        assertThat(Files.readAllLines(p, StandardCharsets.UTF_8)).hasSize(lines.size() + 1)
                .last().isEqualTo("{\"custom_id\":\"last\"}");
    }

    @Test
    void withoutMappingAnOpenSegmentsFileIsExactlyItsLines() throws Exception {
        FileBatchStore store = new FileBatchStore(tmp.resolve("written"), "s", SyncPolicy.NEVER, 1000, false, MAPPER);
        store.start();
        try {
            for (int i = 0; i < 20; i++) {
                store.append("/v1/chat/completions", "m", List.of(record("w-" + i, "{\"n\":1}".getBytes())), ROOMY);
            }
            SegmentInfo open = store.segments().get(0);
            assertThat(open.getStatus()).isEqualTo(SegmentStatus.OPEN);
            assertThat(Files.size(store.dataFile(open.getId()))).isEqualTo(open.getBytes());
            assertThat(endsWithZero(store.dataFile(open.getId()))).isFalse();
        } finally {
            store.close();
        }
    }

    @Test
    void aStoreCopiedWhileRunningRecoversEveryAppendedRequest() throws Exception {
        FileBatchStore store = new FileBatchStore(tmp.resolve("live"), "s", SyncPolicy.NEVER, 1000, MAPPER);
        store.start();
        List<String> ids = new ArrayList<>();
        try {
            for (int i = 0; i < 500; i++) {
                String id = "r-" + i;
                byte[] carried = i % 3 == 0 ? ("{\"n\":\"" + i + "\"}").getBytes(StandardCharsets.UTF_8) : null;
                store.append("/v1/chat/completions", i % 2 == 0 ? "m-a" : "m-b", List.of(record(id, carried)),
                        ROOMY);
                ids.add(id);
            }
            // the files as a kill -9 leaves them: data written through the mappings, zero-filled tails, no close
            copyTree(tmp.resolve("live"), tmp.resolve("killed"));
        } finally {
            store.close();
        }
        Path segments = tmp.resolve("killed").resolve("s").resolve("segments");
        if (AppendFile.mappingSupported()) {
            try (Stream<Path> s = Files.list(segments)) {
                assertThat(s.filter(p -> p.toString().endsWith(".jsonl")).anyMatch(p -> endsWithZero(p)))
                        .as("an unfinished mapped file ends with zeros").isTrue();
            }
        }
        // a torn line where one data file's data ends, as a kill in the middle of a copy into the mapping leaves it
        Path oneData;
        try (Stream<Path> s = Files.list(segments)) {
            oneData = s.filter(p -> p.toString().endsWith(".jsonl") && !p.toString().endsWith(".carry.jsonl"))
                    .findFirst().orElseThrow();
        }
        writeAtDataEnd(oneData, "{\"custom_id\":\"torn\",\"met");

        FileBatchStore recovered = new FileBatchStore(tmp.resolve("killed"), "s", SyncPolicy.NEVER, 1000, MAPPER);
        recovered.start();
        try {
            List<String> found = new ArrayList<>();
            int carried = 0;
            for (SegmentInfo s : recovered.segments()) {
                recovered.readRequests(s.getId(), line -> found.add(RequestLines.customId(MAPPER, line)));
                Map<String, byte[]> headers = recovered.carriedHeaders(s.getId());
                carried += headers.size();
                assertThat(Files.size(recovered.dataFile(s.getId()))).isEqualTo(s.getBytes());
            }
            assertThat(found).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(carried).isEqualTo(167);
            // appends go on after the recovered data, and the store seals a file to exactly its lines
            recovered.append("/v1/chat/completions", "m-a", List.of(record("after", null)), ROOMY);
            List<String> sealed = recovered.sealOpen(s -> true, SealReason.FLUSH);
            assertThat(sealed).hasSize(2);
            int lines = 0;
            for (String id : sealed) {
                Path data = recovered.uploadFile(id);
                assertThat(Files.size(data)).isEqualTo(recovered.segment(id).getBytes());
                assertThat(endsWithZero(data)).isFalse();
                lines += Files.readAllLines(data).size();
            }
            assertThat(lines).isEqualTo(501);
        } finally {
            recovered.close();
        }
    }

    /**
     * A full disk fails the request that meets it with an IOException, before anything of it is stored; the requests
     * before it stay readable. Needs a small file system: mounts a 2 MB tmpfs when it may (root on Linux), else skips.
     */
    @Test
    void aFullDiskFailsTheRequestThatMeetsItAndNothingElse() throws Exception {
        Path mount = Files.createDirectories(tmp.resolve("small"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount.toString()),
                "cannot mount a small tmpfs here (not root, or no mount permission)");
        try {
            FileBatchStore store = new FileBatchStore(mount, "s", SyncPolicy.NEVER, 1000, MAPPER);
            store.start();
            List<String> stored = new ArrayList<>();
            IOException full = null;
            for (int i = 0; i < 100_000 && full == null; i++) {
                String id = "r-" + i;
                try {
                    store.append("/v1/chat/completions", "m", List.of(record(id, null)), ROOMY);
                    stored.add(id);
                } catch (IOException e) {
                    full = e;
                }
            }
            assertThat(full).as("the disk fills up").isNotNull();
            assertThat(full).hasMessageContaining("No space left on device");
            assertThat(stored).hasSizeGreaterThan(1000);
            List<String> read = new ArrayList<>();
            for (SegmentInfo s : store.segments()) {
                store.readRequests(s.getId(), line -> read.add(RequestLines.customId(MAPPER, line)));
            }
            assertThat(read).containsExactlyElementsOf(stored);
            store.close();

            // one write call per request (other systems): a line cut short by the full disk is taken back, so that the
            // next line is not glued to it once there is room again
            deleteTree(mount.resolve("s"));
            // (the store's mappings may hold its deleted files' pages until they are collected: use what is free)
            Path filler = mount.resolve("filler");
            long usable = Files.getFileStore(mount).getUsableSpace();
            Files.write(filler, new byte[(int) Math.max(0, usable - 200_000)]);
            Path p = mount.resolve("written.jsonl");
            Files.createFile(p);
            AppendFile w = AppendFile.open(p, false);
            int lines = 0;
            IOException writeFull = null;
            while (writeFull == null && lines < 100_000) {
                try {
                    w.appendLine(record("w-" + lines, null).line());
                    lines++;
                } catch (IOException e) {
                    writeFull = e;
                }
            }
            assertThat(writeFull).isNotNull();
            assertThat(Files.size(p)).isEqualTo(w.length());
            Files.delete(filler);
            w.appendLine(record("w-after", null).line());
            w.close();
            List<String> written = Files.readAllLines(p, StandardCharsets.UTF_8);
            assertThat(written).hasSize(lines + 1);
            for (String l : written) {
                assertThat(MAPPER.readTree(l).path("custom_id").asText()).startsWith("w-");
            }
        } finally {
            // lazily: mappings that the collector has not released yet keep the file system busy
            run("umount", "-l", mount.toString());
        }
    }

    @Test
    void aMappedFileThatWasNeverFinishedGoesOnAfterItsData() throws IOException {
        assumeTrue(AppendFile.mappingSupported(), "memory-mapped appends are used on Linux only");
        Path p = tmp.resolve("unfinished.jsonl");
        Files.createFile(p);
        AppendFile first = AppendFile.open(p, true);
        for (int i = 0; i < 100; i++) {
            first.appendLine(record("a-" + i, null).line());
        }
        long data = first.length();
        // not finished (a seal whose cut failed): the file runs on with zeros
        assertThat(Files.size(p)).isGreaterThan(data);
        AppendFile again = AppendFile.open(p, true);
        assertThat(again.length()).isEqualTo(data);
        again.appendLine(record("b-0", null).line());
        again.close();
        List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(101);
        assertThat(lines.get(100)).contains("\"b-0\"");
        assertThat(Files.size(p)).isEqualTo(data + record("b-0", null).line().length + 1);
    }

    /**
     * A thread interrupted during one of the store's channel operations closes the channel for every thread (Java's
     * interruptible channels): that request and that seal fail, the store opens the files again, nothing acknowledged
     * is lost and nothing of the failed request stays.
     */
    @Test
    void aChannelClosedByAnInterruptedThreadIsOpenedAgain() throws Exception {
        FileBatchStore store = new FileBatchStore(tmp.resolve("interrupted"), "s", SyncPolicy.ALWAYS, 1000, MAPPER);
        store.start();
        try {
            List<String> acknowledged = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                store.append("/v1/chat/completions", "m", List.of(record("a-" + i, "{\"h\":1}".getBytes())), ROOMY);
                acknowledged.add("a-" + i);
            }
            // a request of 2 MB needs the file system's blocks (a write call): interrupted, it fails
            String big = "{\"custom_id\":\"big\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                         + "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "z".repeat(2_000_000)
                         + "\"}]}}";
            Thread.currentThread().interrupt();
            try {
                store.append("/v1/chat/completions", "m",
                        List.of(new SpoolRecord("big", big.getBytes(StandardCharsets.UTF_8), null, 0)), ROOMY);
                org.junit.jupiter.api.Assertions.fail("an interrupted channel operation must fail the request");
            } catch (IOException expected) {
                // ClosedByInterruptException
            } finally {
                Thread.interrupted();
            }
            assertThat(store.containsCustomId("big")).isFalse();
            for (int i = 0; i < 50; i++) {
                store.append("/v1/chat/completions", "m", List.of(record("b-" + i, null)), ROOMY);
                acknowledged.add("b-" + i);
            }
            // a seal whose cut is interrupted fails and leaves the segment open and usable
            Thread.currentThread().interrupt();
            try {
                store.sealOpen(s -> true, SealReason.FLUSH);
                org.junit.jupiter.api.Assertions.fail("an interrupted seal must fail");
            } catch (IOException expected) {
                // ClosedByInterruptException
            } finally {
                Thread.interrupted();
            }
            assertThat(store.segments()).singleElement().extracting(SegmentInfo::getStatus)
                    .isEqualTo(SegmentStatus.OPEN);
            store.append("/v1/chat/completions", "m", List.of(record("c-0", null)), ROOMY);
            acknowledged.add("c-0");
            List<String> sealed = store.sealOpen(s -> true, SealReason.FLUSH);
            assertThat(sealed).hasSize(1);
            Path data = store.uploadFile(sealed.get(0));
            assertThat(Files.size(data)).isEqualTo(store.segment(sealed.get(0)).getBytes());
            List<String> ids = new ArrayList<>();
            for (String l : Files.readAllLines(data, StandardCharsets.UTF_8)) {
                ids.add(MAPPER.readTree(l).path("custom_id").asText());
            }
            assertThat(ids).containsExactlyElementsOf(acknowledged);
            assertThat(store.carriedHeaders(sealed.get(0))).hasSize(50);
        } finally {
            store.close();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static boolean run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static SpoolRecord record(String id, byte[] carried) {
        String line = "{\"custom_id\":\"" + id + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                      + "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi " + id + "\"}]}}";
        return new SpoolRecord(id, line.getBytes(StandardCharsets.UTF_8), carried, 3);
    }

    private static boolean endsWithZero(Path p) {
        try {
            byte[] b = Files.readAllBytes(p);
            return b.length > 0 && b[b.length - 1] == 0;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void writeAtDataEnd(Path file, String torn) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(torn.getBytes(StandardCharsets.UTF_8)), end);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("store.lock")) {
                    Files.copy(p, target);
                }
            }
        }
    }
}
