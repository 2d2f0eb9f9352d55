package dev.camelbatch.openaibatch.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import dev.camelbatch.openaibatch.engine.store.file.FileBatchStore;

/**
 * The file store's {@code append} of one request at a time, from one thread, without Camel: microseconds per request
 * over a million requests of about 190 bytes (new custom ids, 50 000 to a segment, {@code INTERVAL} sync), in rounds
 * of a fresh store each. The write path: through memory mappings on Linux ({@code mapped=true}, the store's default),
 * one {@code write} call per request with {@code mapped=false} (as the option {@code spoolMapped=false} sets it, and
 * on other systems); run it both ways to compare.
 * <p>
 * Arguments: {@code [requests=1000000] [rounds=4] [mapped=true]}.
 */
public final class SpoolAppendBenchmark {

    private SpoolAppendBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0].replace("_", "")) : 1_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        boolean mapped = args.length <= 2 || Boolean.parseBoolean(args[2].replace("mapped=", ""));
        boolean written = !mapped || !System.getProperty("os.name", "").toLowerCase().contains("linux");
        System.out.printf("spool append benchmark: %,d requests a round, %s, %s%n", n,
                written ? "one write call per request" : "through memory mappings", HeapMeter.machine());
        SegmentLimits limits = new SegmentLimits(50_000, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);
        ObjectMapper mapper = new ObjectMapper();
        for (int round = 1; round <= rounds; round++) {
            Path dir = Files.createTempDirectory("openai-batch-spool-");
            try {
                byte[][] lines = new byte[n][];
                String[] ids = new String[n];
                for (int i = 0; i < n; i++) {
                    ids[i] = "r-" + round + "-" + i;
                    lines[i] = ("{\"custom_id\":\"" + ids[i] + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                                + "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"
                                + "\"Calculate: 1 + " + i + " = \"}]}}").getBytes(StandardCharsets.UTF_8);
                }
                FileBatchStore store = new FileBatchStore(dir, "bench", SyncPolicy.INTERVAL, 1000, mapped, mapper);
                store.start();
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    store.append("/v1/chat/completions", "gpt-4o-mini",
                            List.of(new SpoolRecord(ids[i], lines[i], null, 0)), limits);
                }
                long t = System.nanoTime() - t0;
                store.close();
                System.out.printf("  round %d: %.2f us per append (%,.0f requests/s)%n", round, t / 1e3 / n,
                        n / (t / 1e9));
            } finally {
                IngestBenchmark.deleteTree(dir);
            }
        }
    }
}
