package dev.camelbatch.examples.mq;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * What the message-queue example can be told: {@code OPENAI_API_KEY} and {@code OPENAI_BASE_URL} from the
 * environment, {@code mq.*} system properties. Without a key it is a demo on the in-process simulator.
 *
 * @param dir              the folder for the broker's journal and the request store (real mode)
 * @param apiKey           the OpenAI key, or {@code null} for the simulator
 * @param baseUrl          the API base URL, or {@code null} for the component's default
 * @param model            the model of every request
 * @param brokerId         the in-VM id of the embedded broker ({@code vm://ID})
 * @param tcpAcceptor      an extra acceptor such as {@code tcp://127.0.0.1:61616} for clients in other processes, or
 *                         {@code null}
 * @param persistent       whether the broker keeps messages on disk ({@code dir/broker})
 * @param batchTimeout     seal a batch when its oldest request is this old
 * @param pollInterval     first interval between status polls
 * @param simulatorStepDelay the simulator's time per batch step (demo only)
 * @param sendSamples      send the sample requests at start and print the replies (demo)
 * @param exitWhenDone     stop once every sample request has its reply (demo)
 */
public record MessageQueueSettings(Path dir, String apiKey, String baseUrl, String model, int brokerId,
        String tcpAcceptor, boolean persistent, Duration batchTimeout, Duration pollInterval,
        Duration simulatorStepDelay, boolean sendSamples, boolean exitWhenDone) {

    public static final String DEFAULT_MODEL = "gpt-4o-mini";
    public static final String REQUESTS = "requests";
    public static final String RESULTS = "results";

    public boolean demo() {
        return apiKey == null;
    }

    public static MessageQueueSettings demo(Path dir) {
        return new MessageQueueSettings(dir, null, null, DEFAULT_MODEL, 0, null, false,
                Duration.ofSeconds(1), Duration.ofMillis(200), Duration.ofMillis(200), true, true);
    }

    public static MessageQueueSettings real(Path dir, String apiKey, String baseUrl) {
        return new MessageQueueSettings(dir, apiKey, baseUrl, DEFAULT_MODEL, 0,
                "tcp://127.0.0.1:61616", true, Duration.ofSeconds(60), Duration.ofSeconds(10), null, false, false);
    }

    /**
     * From the environment and the system properties {@code mq.dir} (default the working directory),
     * {@code mq.model}, {@code mq.tcp} (an acceptor URL, or {@code none}).
     */
    public static MessageQueueSettings fromEnvironment(Map<String, String> env, Properties props) {
        Path dir = Path.of(props.getProperty("mq.dir", ".")).toAbsolutePath().normalize();
        String key = blankToNull(env.get("OPENAI_API_KEY"));
        MessageQueueSettings s = key == null ? demo(dir) : real(dir, key, blankToNull(env.get("OPENAI_BASE_URL")));
        String model = blankToNull(props.getProperty("mq.model"));
        String tcp = blankToNull(props.getProperty("mq.tcp"));
        return new MessageQueueSettings(s.dir, s.apiKey, s.baseUrl, model != null ? model : s.model, s.brokerId,
                tcp == null ? s.tcpAcceptor : "none".equals(tcp) ? null : tcp, s.persistent, s.batchTimeout,
                s.pollInterval, s.simulatorStepDelay, s.sendSamples, s.exitWhenDone);
    }

    /** For tests: a broker name of its own, fast simulator, and whether to run the samples. */
    public MessageQueueSettings forTest(int broker, Duration stepDelay, boolean samples) {
        return new MessageQueueSettings(dir, apiKey, baseUrl, model, broker, tcpAcceptor, persistent, batchTimeout,
                Duration.ofMillis(50), stepDelay, samples, samples);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
