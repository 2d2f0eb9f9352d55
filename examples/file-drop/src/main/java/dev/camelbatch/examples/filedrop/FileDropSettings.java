package dev.camelbatch.examples.filedrop;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * Everything the file-drop example can be told. {@link #fromEnvironment} reads {@code OPENAI_API_KEY} and
 * {@code OPENAI_BASE_URL} and the {@code fileDrop.*} system properties; without a key it is a demo on the in-process
 * simulator, tuned to finish in seconds.
 *
 * @param dir                 the folder holding {@code inbox/} and {@code outbox/}
 * @param apiKey              the OpenAI key, or {@code null} for the demo on the simulator
 * @param baseUrl             the API base URL, or {@code null} for the component's default
 * @param model               the model of every request
 * @param storeDirectory      where the component spools requests; {@code null} = a temporary folder (demo only)
 * @param batchTimeout        seal a batch when its oldest request is this old
 * @param pollInterval        first interval between status polls
 * @param maxPollInterval     longest interval between status polls
 * @param maxRequestsPerBatch requests per batch at most
 * @param simulatorStepDelay  the simulator's time per batch step (demo only)
 * @param simulatorLinesPerStep requests the simulator executes per step (demo only)
 * @param writeSamples        write the sample review files into the inbox at start (demo)
 * @param exitWhenDone        stop once every accepted review has its result and the sample files are handled
 * @param progressBar         show the live progress bar
 */
public record FileDropSettings(Path dir, String apiKey, String baseUrl, String model, Path storeDirectory,
        Duration batchTimeout, Duration pollInterval, Duration maxPollInterval, int maxRequestsPerBatch,
        Duration simulatorStepDelay, int simulatorLinesPerStep, boolean writeSamples, boolean exitWhenDone,
        boolean progressBar) {

    public static final String DEFAULT_MODEL = "gpt-4o-mini";

    /** True when no API key is set: the demo runs on the in-process simulator. */
    public boolean demo() {
        return apiKey == null;
    }

    public Path inbox() {
        return dir.resolve("inbox");
    }

    public Path outbox() {
        return dir.resolve("outbox");
    }

    public Path resultsFile() {
        return outbox().resolve("results.csv");
    }

    /** The demo settings: simulator, fast timings, sample files, exit when done. */
    public static FileDropSettings demo(Path dir) {
        return new FileDropSettings(dir, null, null, DEFAULT_MODEL, null, Duration.ofSeconds(1),
                Duration.ofMillis(200), Duration.ofSeconds(1), 20, Duration.ofMillis(200), 5, true, true, true);
    }

    /** Settings for the real API: durable store under {@code dir/store}, the component's polling defaults. */
    public static FileDropSettings real(Path dir, String apiKey, String baseUrl) {
        return new FileDropSettings(dir, apiKey, baseUrl, DEFAULT_MODEL, dir.resolve("store"), Duration.ofSeconds(60),
                Duration.ofSeconds(10), Duration.ofMinutes(5), 50_000, null, 0, false, false, true);
    }

    /**
     * From the environment ({@code OPENAI_API_KEY}, {@code OPENAI_BASE_URL}) and system properties
     * ({@code fileDrop.dir} default the working directory, {@code fileDrop.model}).
     */
    public static FileDropSettings fromEnvironment(Map<String, String> env, Properties props) {
        Path dir = Path.of(props.getProperty("fileDrop.dir", ".")).toAbsolutePath().normalize();
        String key = blankToNull(env.get("OPENAI_API_KEY"));
        FileDropSettings s = key == null ? demo(dir) : real(dir, key, blankToNull(env.get("OPENAI_BASE_URL")));
        String model = blankToNull(props.getProperty("fileDrop.model"));
        return model == null ? s : s.withModel(model);
    }

    public FileDropSettings withModel(String m) {
        return new FileDropSettings(dir, apiKey, baseUrl, m, storeDirectory, batchTimeout, pollInterval,
                maxPollInterval, maxRequestsPerBatch, simulatorStepDelay, simulatorLinesPerStep, writeSamples,
                exitWhenDone, progressBar);
    }

    /** For tests: faster simulator and polling, no progress bar. */
    public FileDropSettings withTimings(Duration stepDelay, Duration poll, boolean bar) {
        return new FileDropSettings(dir, apiKey, baseUrl, model, storeDirectory, batchTimeout, poll, maxPollInterval,
                maxRequestsPerBatch, stepDelay, simulatorLinesPerStep, writeSamples, exitWhenDone, bar);
    }

    public FileDropSettings withProgressBar(boolean bar) {
        return new FileDropSettings(dir, apiKey, baseUrl, model, storeDirectory, batchTimeout, pollInterval,
                maxPollInterval, maxRequestsPerBatch, simulatorStepDelay, simulatorLinesPerStep, writeSamples,
                exitWhenDone, bar);
    }

    /** For tests: whether to write the sample files and to stop once they are done. */
    public FileDropSettings withSamples(boolean write, boolean exit) {
        return new FileDropSettings(dir, apiKey, baseUrl, model, storeDirectory, batchTimeout, pollInterval,
                maxPollInterval, maxRequestsPerBatch, simulatorStepDelay, simulatorLinesPerStep, write, exit,
                progressBar);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
