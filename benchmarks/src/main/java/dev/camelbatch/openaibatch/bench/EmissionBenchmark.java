package dev.camelbatch.openaibatch.bench;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import dev.camelbatch.openaibatch.api.OpenAIFile;
import dev.camelbatch.openaibatch.api.OpenAIJson;
import dev.camelbatch.openaibatch.engine.FileBatchStore;
import dev.camelbatch.openaibatch.engine.SegmentInfo;
import dev.camelbatch.openaibatch.engine.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.SegmentStatus;
import dev.camelbatch.openaibatch.engine.SyncPolicy;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * Emission benchmark: an N-line output file of a finished batch emitted by the consumer to a no-op route,
 * against plain Jackson streaming the same file line by line (the limit). Prints lines per second, the ratio and the
 * heap. The time of the component includes downloading the file from the simulator. After two warm-up runs of both,
 * five rounds alternate the two; the medians are compared.
 * <p>
 * Arguments: {@code [lines=1000000] [outputFormat=content]}.
 */
public final class EmissionBenchmark {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int ROUNDS = 5;
    private static final int WARMUPS = 2;

    private EmissionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0].replace("_", "")) : 1_000_000;
        String format = args.length > 1 ? args[1] : "content";
        Path dir = Files.createTempDirectory("openai-batch-emit-");
        System.out.printf("emission benchmark: %,d lines, outputFormat=%s, %s%n", n, format, HeapMeter.machine());
        try (BatchSimulator sim = BatchSimulator.builder().apiKey("sk-bench").port(0)
                .storageDir(dir.resolve("sim")).maxUploadBytes(4L << 30).recordExecutions(false).build().start()) {
            Path output = dir.resolve("output.jsonl");
            writeOutputFile(output, n);
            System.out.printf("  output file: %,d bytes%n", Files.size(output));

            String fileId;
            try (OpenAIBatchClient client = new OpenAIBatchClient(OpenAIClientConfig.builder().apiKey("sk-bench")
                    .baseUrl(sim.baseUrl()).build())) {
                OpenAIFile f = client.uploadFile(output, "output.jsonl", "batch", null);
                fileId = f.getId();
            }
            Path storeDir = dir.resolve("store");
            for (int w = 0; w < WARMUPS; w++) {
                prepareFinishedSegment(storeDir, "warmup" + w, fileId);
            }
            for (int round = 0; round < ROUNDS; round++) {
                prepareFinishedSegment(storeDir, "emit" + round, fileId);
            }

            // warm-up of both sides, then rounds that alternate them; the medians are compared
            for (int w = 0; w < WARMUPS; w++) {
                baseline(output);
                run(sim, storeDir, "warmup" + w, n, format);
            }
            double[] baselines = new double[ROUNDS];
            double[] rates = new double[ROUNDS];
            double peak = 0;
            double live = 0;
            for (int round = 0; round < ROUNDS; round++) {
                long t0 = System.nanoTime();
                long lines = baseline(output);
                baselines[round] = lines / ((System.nanoTime() - t0) / 1e9);
                double[] r = run(sim, storeDir, "emit" + round, n, format);
                rates[round] = r[0];
                peak = Math.max(peak, r[1]);
                live = Math.max(live, r[2]);
                System.out.printf("  round %d: component %,.0f lines/s, plain Jackson %,.0f lines/s%n", round + 1,
                        rates[round], baselines[round]);
            }
            IngestBenchmark.report("emission: no-op route (median of " + ROUNDS + ")", n, median(rates),
                    median(baselines), peak, live, 0.7);
        } finally {
            IngestBenchmark.deleteTree(dir);
        }
    }

    private static double[] run(BatchSimulator sim, Path storeDir, String name, int n, String format)
            throws Exception {
        CountDownLatch done = new CountDownLatch(n);
        AtomicLong chars = new AtomicLong();
        CamelContext context = new DefaultCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey("sk-bench");
        component.getConfiguration().setBaseUrl(sim.baseUrl());
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("openai-batch:" + name + "?pollInterval=10&deleteFiles=false&outputFormat=" + format)
                        .process(e -> {
                            Object body = e.getMessage().getBody();
                            chars.addAndGet(body != null ? body.hashCode() & 1 : 0);
                            done.countDown();
                        });
            }
        });
        double rate;
        double peak;
        double live;
        try (HeapMeter heap = new HeapMeter()) {
            long t0 = System.nanoTime();
            context.start();
            if (!done.await(30, TimeUnit.MINUTES)) {
                throw new IllegalStateException("emission did not finish: " + done.getCount() + " lines missing");
            }
            rate = n / ((System.nanoTime() - t0) / 1e9);
            peak = heap.peakMb();
            live = heap.maxLiveMb();
        }
        context.stop();
        return new double[] { rate, peak, live };
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        return v[v.length / 2];
    }

    /** A store holding one finished segment whose output file is the uploaded one. */
    private static void prepareFinishedSegment(Path storeDir, String name, String fileId) throws Exception {
        FileBatchStore store = new FileBatchStore(storeDir, name, SyncPolicy.NEVER, 1000, OpenAIJson.mapper());
        store.start();
        try {
            SegmentInfo s = store.createSealedSegment("/v1/chat/completions", "gpt-4o-mini", 1, null, List.of());
            SegmentLifecycle.advance(s, SegmentStatus.FINISHED);
            s.setBatchId("batch_bench_" + name);
            s.setBatchStatus("completed");
            s.setOutputFileId(fileId);
            store.update(s);
        } finally {
            store.close();
        }
    }

    private static long baseline(Path file) throws Exception {
        long lines = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String l;
            while ((l = in.readLine()) != null) {
                JsonNode node = MAPPER.readTree(l);
                if (node.has("custom_id")) {
                    lines++;
                }
            }
        }
        return lines;
    }

    private static void writeOutputFile(Path file, int n) throws Exception {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            for (int i = 0; i < n; i++) {
                String content = "1 + " + i + " = " + (i + 1);
                String line = "{\"id\":\"batch_req_" + i + "\",\"custom_id\":\"r-" + i + "\",\"response\":{\"status_code\":200,"
                              + "\"request_id\":\"req_" + i + "\",\"body\":{\"id\":\"chatcmpl-" + i + "\",\"object\":"
                              + "\"chat.completion\",\"created\":1730000000,\"model\":\"gpt-4o-mini-2024-07-18\","
                              + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + content
                              + "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":"
                              + "{\"prompt_tokens\":24,\"completion_tokens\":9,\"total_tokens\":33,"
                              + "\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":"
                              + "{\"reasoning_tokens\":0}},\"system_fingerprint\":\"fp_sim\"}},\"error\":null}\n";
                out.write(line.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

}
