package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A 210 MB upload streamed into a simulator JVM limited to a 64 MB heap: the multipart parser writes the file part
 * straight to disk, and batch validation streams it (here it fails fast with {@code file_too_large}).
 */
@Timeout(300)
class LargeUploadTest {

    static final long SIZE = 210L * 1024 * 1024;

    @Test
    void streams210MegabytesIntoA64MegabyteHeap() throws Exception {
        Process p = SimulatorMainTest.startProcess(List.of("-Xmx64m"), "--port", "0", "--api-key", "k",
                "--step-delay-ms", "5");
        try {
            String baseUrl = SimulatorMainTest.firstLine(p);
            SimHttp http = new SimHttp(baseUrl, "k", false);
            String boundary = "----large" + System.nanoTime();
            byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--"
                    + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jsonl\"\r\n"
                    + "Content-Type: application/jsonl\r\n\r\n").getBytes(StandardCharsets.UTF_8);
            byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
            // a raw socket streams the body much faster than java.net.http's InputStream publisher
            URI uri = URI.create(baseUrl);
            JsonNode file;
            try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
                socket.setSoTimeout(120_000);
                OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 256 * 1024);
                out.write(("POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\n"
                        + "Content-Type: multipart/form-data; boundary=" + boundary + "\r\nContent-Length: "
                        + (head.length + SIZE + tail.length) + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.write(head);
                writeJsonl(out, SIZE);
                out.write(tail);
                out.flush();
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(response).startsWith("HTTP/1.1 200");
                file = SimHttp.JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4));
            }
            assertThat(file.get("bytes").asLong()).isEqualTo(SIZE);

            SimHttp.Resp created = http.createBatch(file.get("id").asText(), "/v1/chat/completions", null);
            JsonNode failed = http.awaitStatus(created.json().get("id").asText(), "failed");
            assertThat(failed.at("/errors/data/0/code").asText()).isEqualTo("file_too_large");

            String root = baseUrl.substring(0, baseUrl.length() - "/v1".length());
            assertThat(new SimHttp(root, null, false).get("/__simulator/stats").json().get("bytesStored").asLong())
                    .isEqualTo(SIZE);
            assertThat(p.isAlive()).isTrue();
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Writes {@code size} bytes of (repeated) JSONL request lines without holding them. */
    static void writeJsonl(OutputStream out, long size) throws java.io.IOException {
        byte[] line = (SimHttp.chatLine("req", "gpt-4o-mini", "Calculate: 1 + 1 = ") + "\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] block = new byte[line.length * 8192];
        for (int i = 0; i < 8192; i++) {
            System.arraycopy(line, 0, block, i * line.length, line.length);
        }
        long left = size;
        while (left > 0) {
            int n = (int) Math.min(block.length, left);
            out.write(block, 0, n);
            left -= n;
        }
    }
}
