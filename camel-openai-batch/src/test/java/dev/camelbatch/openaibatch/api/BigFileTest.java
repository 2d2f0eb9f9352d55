package dev.camelbatch.openaibatch.api;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 200 MB upload and a 200 MB download with the client in a child JVM limited to 128 MB of heap: both must stream.
 * The size can be changed with {@code -Dopenai.bigfile.mb=N}.
 */
@Timeout(600)
class BigFileTest {

    @Test
    void uploadsAndDownloads200MbWith128MbHeap() throws Exception {
        long size = Long.getLong("openai.bigfile.mb", 200L) * 1024 * 1024;
        Path work = Path.of("target", "bigfile-test").toAbsolutePath();
        try (StubServer stub = new StubServer().recordBodies(false)) {
            stub.on("POST /v1/files", (ex, req) -> StubServer.json(200,
                    StubServer.fileJson("file-big", "big.jsonl", Long.parseLong(req.bodyText()))).run(ex, req));
            stub.on("GET /v1/files/file-out/content", (ex, req) -> {
                ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
                ex.sendResponseHeaders(200, size);
                byte[] buf = new byte[251 * 256];
                for (int i = 0; i < buf.length; i++) {
                    buf[i] = BigFileChild.byteAt(i);
                }
                try (OutputStream out = ex.getResponseBody()) {
                    long left = size;
                    while (left > 0) {
                        int n = (int) Math.min(buf.length, left);
                        out.write(buf, 0, n);
                        left -= n;
                    }
                }
            });

            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Path log = Files.createDirectories(work).resolve("child.log");
            Process p = new ProcessBuilder(List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                    BigFileChild.class.getName(), stub.baseUrl(), work.toString(), String.valueOf(size), "file-out"))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            boolean done = p.waitFor(170, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(done).as("child finished in time; output:%n%s", output).isTrue();
            assertThat(p.exitValue()).as("child exit code; output:%n%s", output).isZero();
            assertThat(output).contains("downloaded " + size + " bytes");
            assertThat(stub.requests("POST /v1/files")).hasSize(1);
            assertThat(Long.parseLong(stub.requests("POST /v1/files").get(0).bodyText())).isGreaterThan(size);
        } finally {
            deleteQuietly(work.resolve("big-upload.jsonl").toFile());
        }
    }

    private static void deleteQuietly(File f) throws IOException {
        Files.deleteIfExists(f.toPath());
    }
}
