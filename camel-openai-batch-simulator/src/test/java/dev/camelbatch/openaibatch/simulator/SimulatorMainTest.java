package dev.camelbatch.openaibatch.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(300)
class SimulatorMainTest {

    @Test
    void startsWithTheGivenOptions() {
        BatchSimulator sim = SimulatorMain.start("--port", "0", "--api-key", "sk-main", "--step-delay-ms", "5",
                "--lines-per-step", "7", "--seed", "3", "--token-limit", "gpt-4o-mini=1000");
        try {
            assertThat(sim.port()).isPositive();
            SimHttp http = new SimHttp(sim);
            assertThat(http.get("/files").status()).isEqualTo(200);
            assertThat(new SimHttp(sim.baseUrl(), "other", false).get("/files").status()).isEqualTo(401);
            String id = http.submit(SimHttp.calculations(8), "/v1/chat/completions");
            assertThat(http.awaitStatus(id, "completed").at("/request_counts/completed").asInt()).isEqualTo(8);
        } finally {
            sim.close();
        }
        assertThat(SimulatorMain.start("--help")).isNull();
        assertThatThrownBy(() -> SimulatorMain.start("--bogus")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SimulatorMain.start("--port")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void runsAsAProcessAndPrintsTheBaseUrl() throws Exception {
        Process p = startProcess(List.of(), "--port", "0", "--azure", "--api-key", "k1");
        try {
            String baseUrl = firstLine(p);
            assertThat(baseUrl).matches("http://127\\.0\\.0\\.1:\\d+/openai");
            SimHttp http = new SimHttp(baseUrl, "k1", true);
            assertThat(http.get("/files").status()).isEqualTo(200);
            String root = baseUrl.substring(0, baseUrl.length() - "/openai".length());
            assertThat(new SimHttp(root, null, false).get("/__simulator/stats").json().get("totalCalls").asLong())
                    .isEqualTo(1);
        } finally {
            p.destroy();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Starts SimulatorMain in a new JVM with this test's class path. */
    static Process startProcess(List<String> jvmArgs, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(SimulatorMain.class.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** The first line the process prints that looks like a URL. */
    static String firstLine(Process p) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null) {
            if (line.startsWith("http://")) {
                return line.trim();
            }
        }
        throw new IllegalStateException("process ended without printing the base URL");
    }
}
