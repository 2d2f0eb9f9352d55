package dev.camelbatch.examples.filedrop;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchConfiguration;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.main.Main;

/**
 * The file-drop example as a Camel Main application. Without {@code OPENAI_API_KEY} it starts the in-process
 * simulator, writes sample review files into the inbox, and exits once every accepted review has its result; with
 * the key it talks to the real API ({@code OPENAI_BASE_URL} or the default) and keeps watching the inbox.
 */
public final class FileDropApplication {

    private static final String SIMULATOR_KEY = "sk-sim";
    /** The demo gives up after this long (it takes a few seconds). */
    static final Duration DEMO_TIMEOUT = Duration.ofMinutes(2);

    private final FileDropSettings settings;
    private final PrintStream out;
    private final Progress progress;
    private volatile Main main;

    public FileDropApplication(FileDropSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
        this.progress = new Progress(settings.progressBar());
        this.progress.model(settings.model());
    }

    public static void main(String[] args) throws Exception {
        boolean terminal = System.console() != null;
        if (terminal) {
            // before the first log line: console log lines start by blanking the line (carriage return, spaces,
            // carriage return), so that they replace the progress bar instead of trailing it (log4j2.properties)
            System.setProperty("fileDrop.linePrefix", "\r" + " ".repeat(Progress.BAR_WIDTH) + "\r");
        }
        FileDropSettings settings = FileDropSettings.fromEnvironment(System.getenv(), System.getProperties());
        if (!terminal) {
            settings = settings.withProgressBar(false); // no terminal to redraw a bar on
        }
        new FileDropApplication(settings, System.out).run();
    }

    public Progress progress() {
        return progress;
    }

    /** Stops a running application (as Ctrl-C does). */
    public void stop() {
        Main m = main;
        if (m != null) {
            m.completed();
        }
    }

    /** Runs until done (demo) or stopped; returns true when every accepted review has its result. */
    public boolean run() throws Exception {
        BatchSimulator sim = null;
        Path tempStore = null;
        ScheduledExecutorService watchdog = null;
        Files.createDirectories(settings.inbox());
        Files.createDirectories(settings.outbox());
        try (ResultsFile results = new ResultsFile(settings.resultsFile(), settings.demo())) {
            OpenAIBatchComponent component = new OpenAIBatchComponent();
            OpenAIBatchConfiguration conf = component.getConfiguration();
            if (settings.demo()) {
                sim = BatchSimulator.builder().apiKey(SIMULATOR_KEY).port(0).stepDelay(settings.simulatorStepDelay())
                        .linesPerStep(settings.simulatorLinesPerStep()).build().start();
                conf.setApiKey(SIMULATOR_KEY);
                conf.setBaseUrl(sim.baseUrl());
                out.println("OPENAI_API_KEY is not set: running on the in-process simulator at " + sim.baseUrl()
                            + " (set OPENAI_API_KEY to use the real API)");
            } else {
                conf.setApiKey(settings.apiKey());
                conf.setBaseUrl(settings.baseUrl());
                out.println("Using the OpenAI Batch API at "
                            + (settings.baseUrl() != null ? settings.baseUrl() : "https://api.openai.com/v1")
                            + " with model " + settings.model());
            }
            if (settings.storeDirectory() != null) {
                conf.setStoreDirectory(settings.storeDirectory().toString());
            } else {
                tempStore = Files.createTempDirectory("file-drop-store-");
                conf.setStoreDirectory(tempStore.toString());
            }
            conf.setBatchTimeout(settings.batchTimeout().toMillis());
            conf.setPollInterval(settings.pollInterval().toMillis());
            conf.setMaxPollInterval(settings.maxPollInterval().toMillis());

            int expectedFiles = 0;
            if (settings.writeSamples()) {
                expectedFiles = SampleReviews.write(settings.inbox()).size();
                out.println("Wrote " + SampleReviews.reviews().size() + " sample reviews to "
                            + settings.inbox().resolve(SampleReviews.SAMPLE_FILE) + " and a file with a bad row, "
                            + SampleReviews.BAD_FILE);
            }
            out.println("Watching " + settings.inbox() + " for *.csv (columns id,review) and *.jsonl files; results go"
                        + " to " + settings.resultsFile() + (settings.exitWhenDone() ? "" : "; Ctrl-C stops"));

            Main m = new Main();
            m.bind("openai-batch", component);
            m.configure().addRoutesBuilder(new FileDropRoutes(settings, progress, results));
            this.main = m;
            AtomicBoolean completed = new AtomicBoolean();
            if (settings.exitWhenDone()) {
                int files = expectedFiles;
                progress.onChange(() -> {
                    if (progress.filesHandled() >= files && progress.spooled() > 0
                        && progress.results() >= progress.spooled() && completed.compareAndSet(false, true)) {
                        FileDropRoutes.LOG.info("Every review has its result; stopping");
                        m.completed();
                    }
                });
                watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "file-drop-watchdog");
                    t.setDaemon(true);
                    return t;
                });
                watchdog.schedule(() -> {
                    if (completed.compareAndSet(false, true)) {
                        FileDropRoutes.LOG.error("Not done after {}; stopping", DEMO_TIMEOUT);
                        m.completed();
                    }
                }, DEMO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
            m.run();
            this.main = null;
            FileDropRoutes.LOG.info("Stopped");
            progress.printSummary(out, settings.resultsFile().toString(), settings.demo());
            return progress.spooled() > 0 && progress.results() >= progress.spooled();
        } finally {
            if (watchdog != null) {
                watchdog.shutdownNow();
            }
            if (sim != null) {
                sim.close();
            }
            if (tempStore != null) {
                deleteRecursively(tempStore);
            }
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
