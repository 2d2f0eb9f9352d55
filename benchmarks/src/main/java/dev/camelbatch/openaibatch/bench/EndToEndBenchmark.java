package dev.camelbatch.openaibatch.bench;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * End to end: N chat requests through the simulator with zero model latency, from the first request sent
 * to the last result delivered, for the component and for a hand-written loop over the official
 * {@code com.openai:openai-java} SDK doing the same job the way its documentation shows (write JSONL, upload, create,
 * poll, download, parse, match by custom id, delete the files). The simulator runs in a JVM of its own.
 * <p>
 * Arguments: {@code [requests=1000000] [run=both|component|sdk] [senders=2] [rounds=5]}: after an untimed warm-up of
 * each side, {@code rounds} timed runs of each, alternating; the ratio is that of the medians. Run the component alone with
 * {@code -Xmx64m} to check its heap.
 */
public final class EndToEndBenchmark {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String KEY = "sk-bench-e2e";
    private static final int PER_BATCH = 50_000;
    private static final long POLL_MS = 100;
    private static final int WARMUP_REQUESTS = 100_000;

    private EndToEndBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0].replace("_", "")) : 1_000_000;
        String run = args.length > 1 ? args[1] : "both";
        int senders = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Path dir = Files.createTempDirectory("openai-batch-e2e-");
        System.out.printf("end-to-end benchmark: %,d chat requests, %d per batch, poll every %d ms, %s%n", n,
                PER_BATCH, POLL_MS, HeapMeter.machine());
        try (SimulatorProcess sim = new SimulatorProcess(KEY, 5, PER_BATCH, dir.resolve("sim"))) {
            double component = 0;
            double sdk = 0;
            // a warm-up of each side first (untimed), so that neither pays for the simulator's or its own warm-up
            int warmup = Math.min(n, WARMUP_REQUESTS);
            if (!"sdk".equals(run)) {
                component(sim.baseUrl(), dir, warmup, senders, "warm-up component");
                reset(sim.baseUrl());
            }
            if (!"component".equals(run)) {
                sdkLoop(sim.baseUrl(), dir, warmup, "warm-up SDK loop");
                reset(sim.baseUrl());
            }
            // timed rounds, the two sides alternating, so that both see the same drift of the machine; the JIT is
            // still compiling in the first million (thousands of methods after a 100 000 warm-up), so the median
            // round stands for each side
            List<Double> componentRounds = new ArrayList<>();
            List<Double> sdkRounds = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                String tag = rounds > 1 ? " (round " + round + ")" : "";
                if (!"sdk".equals(run)) {
                    reset(sim.baseUrl());
                    double[] cpu0 = cpuNow(sim);
                    try (ThreadCpuMeter threads = new ThreadCpuMeter()) {
                        componentRounds.add(component(sim.baseUrl(), dir, n, senders, "component" + tag));
                        printCpu("component", cpu0, sim);
                        System.out.println("    by thread: " + threads.describe());
                    }
                }
                if (!"component".equals(run)) {
                    reset(sim.baseUrl());
                    double[] cpu0 = cpuNow(sim);
                    try (ThreadCpuMeter threads = new ThreadCpuMeter()) {
                        sdkRounds.add(sdkLoop(sim.baseUrl(), dir, n, "SDK loop" + tag));
                        printCpu("SDK loop", cpu0, sim);
                        System.out.println("    by thread: " + threads.describe());
                    }
                }
                if ("both".equals(run) && rounds > 1) {
                    System.out.printf("  round %d ratio %.2f%n", round, componentRounds.get(round - 1)
                                                                       / sdkRounds.get(round - 1));
                }
            }
            component = median(componentRounds);
            sdk = median(sdkRounds);
            if (rounds > 1) {
                System.out.printf("median of %d rounds: component %.1f s, SDK loop %.1f s%n", rounds, component, sdk);
                if ("both".equals(run)) {
                    // each round pairs the two sides within a minute or so: the machine's drift cancels in the pair
                    List<Double> ratios = new ArrayList<>();
                    for (int i = 0; i < rounds; i++) {
                        ratios.add(componentRounds.get(i) / sdkRounds.get(i));
                    }
                    System.out.printf("median of the rounds' ratios %.2f%n", median(ratios));
                }
            }
            if ("both".equals(run)) {
                double ratio = component / sdk;
                System.out.printf("ratio component/SDK loop (time) %.2f (target <= 1.0: %s)%n", ratio,
                        ratio <= 1.0 ? "met" : "MISSED");
            }
        } finally {
            IngestBenchmark.deleteTree(dir);
        }
    }

    private static double component(String baseUrl, Path dir, int n, int senders, String label) throws Exception {
        CountDownLatch done = new CountDownLatch(n);
        AtomicLong wrong = new AtomicLong();
        CamelContext context = new DefaultCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey(KEY);
        component.getConfiguration().setBaseUrl(baseUrl);
        component.getConfiguration().setStoreDirectory(dir.resolve("store-" + label.replace(' ', '-')).toString());
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:e2e?model=gpt-4o-mini&maxRequestsPerBatch=" + PER_BATCH
                                     + "&batchTimeout=500");
                // polls every POLL_MS like the loop (no back-off while nothing changes, which the default has)
                from("openai-batch:e2e?pollInterval=" + POLL_MS + "&maxPollInterval=" + POLL_MS
                     + "&maxInFlightBatches=100")
                        .process(e -> {
                            String id = e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
                            int i = Integer.parseInt(id.substring(2));
                            if (!("1 + " + i + " = " + (i + 1)).equals(e.getMessage().getBody(String.class))) {
                                wrong.incrementAndGet();
                            }
                            done.countDown();
                        });
            }
        });
        context.start();
        ProducerTemplate template = context.createProducerTemplate();
        double seconds;
        double peak;
        double live;
        try (HeapMeter heap = new HeapMeter()) {
            long t0 = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            // resolved once, as a route or a bean holding its endpoint does (not looked up by URI per message)
            Endpoint in = context.getEndpoint("direct:in");
            for (int t = 0; t < senders; t++) {
                final int offset = t;
                Thread th = new Thread(() -> {
                    for (int i = offset; i < n; i += senders) {
                        final int k = i;
                        template.send(in, ex -> {
                            ex.getMessage().setHeader(OpenAIBatchConstants.CUSTOM_ID, "r-" + k);
                            ex.getMessage().setBody("Calculate: 1 + " + k + " = ");
                        });
                    }
                }, "sender-" + t);
                th.start();
                threads.add(th);
            }
            for (Thread th : threads) {
                th.join();
            }
            long sent = System.nanoTime();
            template.send("direct:in", ex -> ex.getMessage().setHeader(OpenAIBatchConstants.FLUSH, true));
            if (!done.await(60, TimeUnit.MINUTES)) {
                throw new IllegalStateException(done.getCount() + " results missing");
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            peak = heap.peakMb();
            live = heap.maxLiveMb();
            System.out.printf("%s:  %,d results in %.1f s (all sent after %.1f s, %d senders), %,.0f req/s;"
                              + " peak heap %.0f MB, max live heap %.0f MB, wrong answers %d%n", label, n, seconds,
                    (sent - t0) / 1e9, senders, n / seconds, peak, live, wrong.get());
        }
        context.stop();
        return seconds;
    }

    /** The loop a user writes with the SDK, as its documentation shows it. */
    private static double sdkLoop(String baseUrl, Path dir, int n, String label) throws Exception {
        OpenAIClient client = OpenAIOkHttpClient.builder().apiKey(KEY).baseUrl(baseUrl).build();
        long wrong = 0;
        long matched = 0;
        double seconds;
        double peak;
        double live;
        try (HeapMeter heap = new HeapMeter()) {
            long t0 = System.nanoTime();
            Map<String, Integer> sent = new HashMap<>();
            List<Batch> pending = new ArrayList<>();
            for (int start = 0; start < n; start += PER_BATCH) {
                Path jsonl = dir.resolve("sdk-" + start + ".jsonl");
                try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(jsonl), 1 << 16)) {
                    for (int i = start; i < Math.min(n, start + PER_BATCH); i++) {
                        String id = "r-" + i;
                        sent.put(id, i);
                        var line = MAPPER.createObjectNode();
                        line.put("custom_id", id).put("method", "POST").put("url", "/v1/chat/completions");
                        var body = line.putObject("body");
                        body.put("model", "gpt-4o-mini");
                        body.putArray("messages").addObject().put("role", "user")
                                .put("content", "Calculate: 1 + " + i + " = ");
                        out.write(MAPPER.writeValueAsBytes(line));
                        out.write('\n');
                    }
                }
                FileObject file = client.files().create(FileCreateParams.builder().file(jsonl)
                        .purpose(FilePurpose.BATCH).build());
                Files.delete(jsonl);
                pending.add(client.batches().create(BatchCreateParams.builder().inputFileId(file.id())
                        .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                        .completionWindow(BatchCreateParams.CompletionWindow._24H).build()));
            }
            while (!pending.isEmpty()) {
                Thread.sleep(POLL_MS);
                for (Iterator<Batch> it = pending.iterator(); it.hasNext();) {
                    Batch b = client.batches().retrieve(it.next().id());
                    // the SDK's enum-like values compare with equals()
                    if (!Batch.Status.COMPLETED.equals(b.status())) {
                        if (Batch.Status.FAILED.equals(b.status()) || Batch.Status.EXPIRED.equals(b.status())
                                || Batch.Status.CANCELLED.equals(b.status())) {
                            throw new IllegalStateException("batch " + b.id() + " " + b.status());
                        }
                        continue;
                    }
                    it.remove();
                    try (HttpResponse response = client.files().content(b.outputFileId().orElseThrow());
                         BufferedReader in = new BufferedReader(new InputStreamReader(response.body(),
                                 StandardCharsets.UTF_8))) {
                        String l;
                        while ((l = in.readLine()) != null) {
                            JsonNode node = MAPPER.readTree(l);
                            Integer i = sent.remove(node.get("custom_id").asText());
                            String content = node.path("response").path("body").path("choices").path(0)
                                    .path("message").path("content").asText();
                            if (i == null || !content.equals("1 + " + i + " = " + (i + 1))) {
                                wrong++;
                            } else {
                                matched++;
                            }
                        }
                    }
                    client.files().delete(b.inputFileId());
                    client.files().delete(b.outputFileId().orElseThrow());
                }
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            peak = heap.peakMb();
            live = heap.maxLiveMb();
        }
        client.close();
        System.out.printf("%s:   %,d results in %.1f s, %,.0f req/s; peak heap %.0f MB, max live heap %.0f MB,"
                          + " wrong or unmatched %d%n", label, matched, seconds, matched / seconds, peak, live, wrong);
        return seconds;
    }

    private static double median(List<Double> values) {
        if (values.isEmpty()) {
            return 0;
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int m = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(m) : (sorted.get(m - 1) + sorted.get(m)) / 2;
    }

    /** CPU seconds of this JVM (both sides run in it, one after the other). */
    private static double ownCpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    /** CPU seconds so far: this JVM's, the simulator's, and the kernel's part of each. */
    private static double[] cpuNow(SimulatorProcess sim) {
        return new double[] { ownCpuSeconds(), sim.cpuSeconds(), SimulatorProcess.kernelSeconds(ProcessHandle.current()
                .pid()), sim.kernelSeconds() };
    }

    private static void printCpu(String side, double[] before, SimulatorProcess sim) {
        double[] now = cpuNow(sim);
        System.out.printf("  CPU during the %s run: %.1f s in this JVM (kernel %.1f s), %.1f s in the simulator's JVM"
                          + " (kernel %.1f s)%n", side, now[0] - before[0], now[2] - before[2], now[1] - before[1],
                now[3] - before[3]);
    }

    private static void reset(String baseUrl) throws Exception {
        String root = baseUrl.substring(0, baseUrl.length() - "/v1".length());
        HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(root + "/__simulator/reset"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), BodyHandlers.discarding());
    }

}
