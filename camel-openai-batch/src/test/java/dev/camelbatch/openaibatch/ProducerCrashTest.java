package dev.camelbatch.openaibatch;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A child JVM that is sending requests (single ones from two threads, JSONL documents from a third) is killed with
 * SIGKILL; a new context on the same store must find every request whose send returned, exactly once, with its
 * carried headers, no torn line, and no part of an unacknowledged document. Three lives on the same store, each
 * killed once it has acknowledged a different number of requests (among them at least one document), while its
 * senders keep going.
 */
@Timeout(600)
class ProducerCrashTest extends CamelTestSupport {

    private static final Pattern DOC_ID = Pattern.compile("(.*d-\\d+)-(\\d+)");

    @TempDir
    static Path storeDir;

    @Override
    public boolean isUseRouteBuilder() {
        return false;
    }

    @Test
    void everyAcknowledgedRequestSurvivesSigkillExactlyOnce() throws Exception {
        int[] killAfterAcks = { 600, 250, 900 };
        Set<String> acknowledged = new HashSet<>();
        for (int life = 0; life < killAfterAcks.length; life++) {
            List<String> acks = runAndKill("k" + life + "-", killAfterAcks[life]);
            assertThat(acks).as("acknowledgements in life %s", life).hasSizeGreaterThanOrEqualTo(killAfterAcks[life]);
            assertThat(acks).as("no id acknowledged twice").doesNotHaveDuplicates();
            acknowledged.addAll(acks);
            if (life == 1) {
                simulateTornTails();
            }
            verifyAfterRecovery(acknowledged, life);
        }
    }

    /**
     * Starts the child, lets it acknowledge at least the given number of requests (at least one of them a line of a
     * document), kills it while it sends more, returns the acknowledged ids.
     */
    private List<String> runAndKill(String prefix, int killAfterAcks) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), ProducerCrashChild.class.getName(),
                storeDir.toString(), prefix);
        Files.createDirectories(Path.of("target"));
        pb.redirectError(ProcessBuilder.Redirect.appendTo(new File("target/producer-crash-child.log")));
        Process child = pb.start();
        List<String> acks = Collections.synchronizedList(new ArrayList<>());
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> readLines(child.getInputStream(), acks, errors), "child-stdout");
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(2))
                    .until(() -> !errors.isEmpty() || !child.isAlive() || acknowledgedEnough(acks, killAfterAcks));
            assertThat(errors).as("errors reported by the child").isEmpty();
            assertThat(child.isAlive()).as("the child runs until it is killed").isTrue();
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux
            assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        reader.join(10_000);
        assertThat(errors).as("errors reported by the child").isEmpty();
        assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
        synchronized (acks) {
            return new ArrayList<>(acks);
        }
    }

    private static boolean acknowledgedEnough(List<String> acks, int n) {
        synchronized (acks) {
            return acks.size() >= n && acks.stream().anyMatch(id -> DOC_ID.matcher(id).matches());
        }
    }

    /** Only complete lines count: a line cut by the kill is not an acknowledgement. */
    private static void readLines(InputStream in, List<String> acks, List<String> errors) {
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            StringBuilder line = new StringBuilder();
            char[] buf = new char[8192];
            int n;
            while ((n = r.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] != '\n') {
                        line.append(buf[i]);
                        continue;
                    }
                    String l = line.toString();
                    line.setLength(0);
                    if (l.startsWith("ACK ")) {
                        acks.add(l.substring(4));
                    } else if (l.startsWith("ERR")) {
                        errors.add(l);
                    }
                }
            }
        } catch (IOException e) {
            // the pipe closes when the child dies
        }
    }

    /**
     * What a write interrupted by a power loss leaves: a partial last line in the open segment's request file and in
     * its carried-header sidecar. Recovery must cut both, so that the next appends start on a line of their own.
     */
    private void simulateTornTails() throws Exception {
        Path dir = Spool.segmentsDir(storeDir, ProducerCrashChild.NAME);
        for (Map.Entry<String, Path> e : Spool.dataFiles(storeDir, ProducerCrashChild.NAME).entrySet()) {
            Path state = dir.resolve(e.getKey() + ".state.json");
            if (!Files.exists(state)
                || Spool.MAPPER.readValue(state.toFile(), SegmentInfo.class).getStatus() != SegmentStatus.OPEN) {
                continue;
            }
            writeAtDataEnd(e.getValue(), "{\"custom_id\":\"torn-data\",\"method\":\"PO");
            Path carry = dir.resolve(e.getKey() + ".carry.jsonl");
            if (Files.exists(carry)) {
                writeAtDataEnd(carry, "{\"c\":\"torn-carry\",\"h\":{\"se");
            }
        }
    }

    /**
     * Writes a torn line where the file's data ends: at its end, or where the zero-filled tail of a file that the
     * killed JVM wrote through a memory mapping begins (as a copy into the mapping cut short by the kill leaves it).
     */
    private static void writeAtDataEnd(Path file, String torn) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(torn.getBytes(StandardCharsets.UTF_8)), end);
        }
    }

    private void verifyAfterRecovery(Set<String> acknowledged, int life) throws Exception {
        String uri = ProducerCrashChild.URI;
        CamelContext ctx = Spool.startContext(storeDir, null, null, new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to(uri);
            }
        });
        try {
            BatchStore store = Spool.store(ctx, uri);
            Map<String, Path> files = Spool.dataFiles(storeDir, ProducerCrashChild.NAME);
            List<String> ids = new ArrayList<>();
            Map<String, String> segmentOf = new HashMap<>();
            for (Map.Entry<String, Path> f : files.entrySet()) {
                byte[] bytes = Files.readAllBytes(f.getValue());
                assertThat(bytes.length == 0 || bytes[bytes.length - 1] == '\n')
                        .as("%s ends with a complete line", f.getKey()).isTrue();
                for (String raw : Spool.rawLines(f.getValue())) {
                    JsonNode line = Spool.parse(raw); // every line is complete JSON
                    String id = line.path("custom_id").asText();
                    ids.add(id);
                    segmentOf.put(id, f.getKey());
                }
            }
            // the store knows exactly the segments on disk, with their counts
            List<SegmentInfo> segments = store.segments();
            assertThat(files.keySet()).as("life %s", life)
                    .containsExactlyInAnyOrderElementsOf(segments.stream().map(SegmentInfo::getId).toList());
            assertThat(segments.stream().mapToInt(SegmentInfo::getRequestCount).sum()).isEqualTo(ids.size());
            assertThat(segments.stream().filter(s -> s.getStatus() == SegmentStatus.OPEN)).hasSizeLessThanOrEqualTo(1);

            // every acknowledged request exactly once; nothing twice
            assertThat(ids).as("life %s", life).doesNotHaveDuplicates().doesNotContain("torn-data");
            assertThat(new HashSet<>(ids)).as("life %s", life).containsAll(acknowledged);
            for (String id : acknowledged) {
                assertThat(store.containsCustomId(id)).isTrue();
            }
            // documents are all or nothing
            Map<String, Integer> perDocument = new HashMap<>();
            for (String id : ids) {
                Matcher m = DOC_ID.matcher(id);
                if (m.matches()) {
                    perDocument.merge(m.group(1), 1, Integer::sum);
                }
            }
            assertThat(perDocument).as("life %s", life).isNotEmpty();
            perDocument.forEach((doc, n) -> assertThat(n).as("lines of %s", doc)
                    .isEqualTo(ProducerCrashChild.DOC_LINES));

            // the carried headers of every acknowledged request are readable
            Map<String, byte[]> carried = new HashMap<>();
            for (SegmentInfo s : segments) {
                carried.putAll(store.carriedHeaders(s.getId()));
            }
            for (String id : acknowledged) {
                assertThat(carried).as("carried headers of %s", id).containsKey(id);
                assertThat(Spool.MAPPER.readTree(carried.get(id)).has("seq")).isTrue();
            }

            // the store takes requests again; the open segment continues
            String openBefore = segments.stream().filter(s -> s.getStatus() == SegmentStatus.OPEN)
                    .map(SegmentInfo::getId).findFirst().orElse(null);
            String next = "after-life-" + life;
            Exchange ex = ctx.createProducerTemplate().request("direct:in", e -> {
                e.getMessage().setBody("after the crash");
                e.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, next);
                e.getMessage().setHeader("seq", -1L);
            });
            assertThat(ex.getException()).isNull();
            acknowledged.add(next);
            String seg = null;
            for (Map.Entry<String, Path> f : Spool.dataFiles(storeDir, ProducerCrashChild.NAME).entrySet()) {
                for (String raw : Spool.rawLines(f.getValue())) {
                    if (Spool.parse(raw).path("custom_id").asText().equals(next)) {
                        seg = f.getKey();
                    }
                }
            }
            assertThat(seg).isNotNull();
            if (openBefore != null) {
                assertThat(seg).isEqualTo(openBefore);
            }
            assertThat(store.carriedHeaders(seg)).containsKey(next);
            assertThat(Spool.MAPPER.readTree(store.carriedHeaders(seg).get(next)).path("seq").path("v").asText())
                    .isEqualTo("-1");
        } finally {
            ctx.stop();
        }
    }
}
