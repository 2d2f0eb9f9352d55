package dev.camelbatch.examples.database;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * What the database example can be told: {@code OPENAI_API_KEY} and {@code OPENAI_BASE_URL} from the environment,
 * {@code db.*} system properties. Without a key it is a demo on the in-process simulator.
 *
 * @param dir            the example's folder (the H2 file database and the request store of the real mode)
 * @param jdbcUrl        the database, e.g. {@code jdbc:h2:mem:tickets} or {@code jdbc:postgresql://host/db}
 * @param user           the database user, or {@code null}
 * @param password       the database password, or {@code null}
 * @param apiKey         the OpenAI key, or {@code null} for the simulator
 * @param baseUrl        the API base URL, or {@code null} for the component's default
 * @param model          the model of every request
 * @param scanInterval   how often the table is scanned for tickets without a category
 * @param batchTimeout   seal a batch when its oldest request is this old
 * @param pollInterval   first interval between status polls
 * @param simulatorStepDelay the simulator's time per batch step (demo only)
 * @param seed           insert the sample tickets when the table is empty
 * @param exitWhenDone   stop once no ticket is left without a category (demo)
 */
public record DatabaseSettings(Path dir, String jdbcUrl, String user, String password, String apiKey, String baseUrl,
        String model, Duration scanInterval, Duration batchTimeout, Duration pollInterval,
        Duration simulatorStepDelay, boolean seed, boolean exitWhenDone) {

    public static final String DEFAULT_MODEL = "gpt-4o-mini";

    public boolean demo() {
        return apiKey == null;
    }

    public static DatabaseSettings demo(Path dir) {
        return new DatabaseSettings(dir, "jdbc:h2:mem:tickets;DB_CLOSE_DELAY=-1", "sa", "", null, null, DEFAULT_MODEL,
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(200), Duration.ofMillis(200), true,
                true);
    }

    public static DatabaseSettings real(Path dir, String apiKey, String baseUrl) {
        return new DatabaseSettings(dir, "jdbc:h2:file:" + dir.resolve("data/tickets").toAbsolutePath(), "sa", "",
                apiKey, baseUrl, DEFAULT_MODEL, Duration.ofSeconds(30), Duration.ofSeconds(60),
                Duration.ofSeconds(10), null, false, false);
    }

    /**
     * From the environment and the system properties {@code db.dir} (default the working directory), {@code db.url},
     * {@code db.user}, {@code db.password}, {@code db.model}, {@code db.seed} ({@code true} or {@code false}).
     */
    public static DatabaseSettings fromEnvironment(Map<String, String> env, Properties props) {
        Path dir = Path.of(props.getProperty("db.dir", ".")).toAbsolutePath().normalize();
        String key = blankToNull(env.get("OPENAI_API_KEY"));
        DatabaseSettings s = key == null ? demo(dir) : real(dir, key, blankToNull(env.get("OPENAI_BASE_URL")));
        String url = blankToNull(props.getProperty("db.url"));
        String model = blankToNull(props.getProperty("db.model"));
        String seed = blankToNull(props.getProperty("db.seed"));
        return new DatabaseSettings(dir, url != null ? url : s.jdbcUrl,
                url != null ? props.getProperty("db.user") : props.getProperty("db.user", s.user),
                url != null ? props.getProperty("db.password") : props.getProperty("db.password", s.password),
                s.apiKey, s.baseUrl, model != null ? model : s.model, s.scanInterval, s.batchTimeout, s.pollInterval,
                s.simulatorStepDelay, seed != null ? Boolean.parseBoolean(seed) : s.seed, s.exitWhenDone);
    }

    /** For tests: another database, a fast simulator, and whether to seed and stop by itself. */
    public DatabaseSettings forTest(String url, Duration stepDelay, boolean seedAndExit) {
        return new DatabaseSettings(dir, url, user, password, apiKey, baseUrl, model, Duration.ofMillis(300),
                Duration.ofMillis(300), Duration.ofMillis(50), stepDelay, seedAndExit, seedAndExit);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
