package dev.camelbatch.openaibatch.api;

import java.io.BufferedWriter;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Run in a child JVM with a small heap by {@link BigFileTest}: writes a large JSONL file, uploads it, downloads a large
 * file and counts its bytes. Exit code 0 on success.
 * <p>
 * Arguments: baseUrl, work directory, size in bytes, download file id.
 */
public final class BigFileChild {

    private BigFileChild() {
    }

    public static void main(String[] args) throws Exception {
        String baseUrl = args[0];
        Path dir = Path.of(args[1]);
        long size = Long.parseLong(args[2]);
        String downloadId = args[3];
        Files.createDirectories(dir);
        Path file = dir.resolve("big-upload.jsonl");
        int exit = 1;
        try {
            long written = writeJsonl(file, size);
            OpenAIClientConfig config = OpenAIClientConfig.builder().baseUrl(baseUrl).apiKey("sk-test-big")
                    .responseTimeout(Duration.ofSeconds(60))
                    .retryPolicy(RetryPolicy.builder().maxAttempts(2).initialDelay(Duration.ofMillis(100)).build())
                    .build();
            try (OpenAIBatchClient client = new OpenAIBatchClient(config)) {
                OpenAIFile uploaded = client.uploadFile(file, "big.jsonl", "batch", null);
                System.out.println("uploaded " + written + " bytes of JSONL, server received " + uploaded.getBytes()
                        + " body bytes");
                if (uploaded.getBytes() == null || uploaded.getBytes() < written) {
                    System.out.println("FAIL: the server received less than the file");
                    System.exit(1);
                }
                long count = 0;
                long sum = 0;
                byte[] buf = new byte[64 * 1024];
                try (InputStream in = client.downloadFileContent(downloadId)) {
                    int n;
                    while ((n = in.read(buf)) != -1) {
                        count += n;
                        for (int i = 0; i < n; i++) {
                            sum += buf[i] & 0xff;
                        }
                    }
                }
                System.out.println("downloaded " + count + " bytes, byte sum " + sum);
                if (count != size || sum != expectedSum(size)) {
                    System.out.println("FAIL: expected " + size + " bytes with sum " + expectedSum(size));
                    System.exit(1);
                }
            }
            Runtime rt = Runtime.getRuntime();
            System.out.println("max heap " + rt.maxMemory() / (1024 * 1024) + " MB, used now "
                    + (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024) + " MB");
            exit = 0;
        } catch (Throwable t) {
            t.printStackTrace(System.out);
        } finally {
            Files.deleteIfExists(file);
        }
        System.exit(exit);
    }

    private static long writeJsonl(Path file, long size) throws Exception {
        String filler = "x".repeat(900);
        long written = 0;
        int i = 0;
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            while (written < size) {
                String line = "{\"custom_id\":\"req-" + i++ + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                        + "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"" + filler
                        + "\"}]}}\n";
                w.write(line);
                written += line.length();
            }
        }
        return written;
    }

    /** The byte at position p of the download is {@code p % 251}. */
    static byte byteAt(long p) {
        return (byte) (p % 251);
    }

    static long expectedSum(long size) {
        long full = size / 251;
        long rest = size % 251;
        return full * (250L * 251 / 2) + (rest - 1) * rest / 2;
    }
}
