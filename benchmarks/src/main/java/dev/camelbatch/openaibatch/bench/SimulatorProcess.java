package dev.camelbatch.openaibatch.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.camelbatch.openaibatch.simulator.SimulatorMain;

/**
 * The simulator in a JVM of its own, so that the heap and CPU figures of the process under measurement are its own.
 */
final class SimulatorProcess implements AutoCloseable {

    private final Process process;
    private final String baseUrl;

    SimulatorProcess(String apiKey, int stepDelayMs, int linesPerStep, Path storage) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g"));
        // extra JVM options for the simulator (e.g. a flight recording), space-separated
        String extra = System.getProperty("bench.simulatorJvmArgs", "").trim();
        if (!extra.isEmpty()) {
            cmd.addAll(List.of(extra.split("\\s+")));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SimulatorMain.class.getName(), "--port", "0",
                "--api-key", apiKey, "--step-delay-ms",
                Integer.toString(stepDelayMs), "--lines-per-step", Integer.toString(linesPerStep), "--storage-dir",
                storage.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        process = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Pattern url = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+/v1)");
        String found = null;
        String line;
        long deadline = System.currentTimeMillis() + 30_000;
        while (found == null && System.currentTimeMillis() < deadline && (line = out.readLine()) != null) {
            Matcher m = url.matcher(line);
            if (m.find()) {
                found = m.group(1);
            }
        }
        if (found == null) {
            process.destroyForcibly();
            throw new IllegalStateException("the simulator did not print its URL");
        }
        baseUrl = found;
        Thread drain = new Thread(() -> {
            try {
                while (out.readLine() != null) {
                    // discard
                }
            } catch (Exception e) {
                // process ended
            }
        }, "simulator-output");
        drain.setDaemon(true);
        drain.start();
    }

    String baseUrl() {
        return baseUrl;
    }

    /** CPU seconds the simulator's process has used so far. */
    double cpuSeconds() {
        return process.toHandle().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }

    /** Of {@link #cpuSeconds()}, the seconds spent in the kernel (Linux; NaN elsewhere). */
    double kernelSeconds() {
        return kernelSeconds(process.pid());
    }

    /** A process's CPU seconds in the kernel, from {@code /proc/<pid>/stat} (10 ms ticks); NaN where there is none. */
    static double kernelSeconds(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[12]) / 100.0;
        } catch (java.io.IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    @Override
    public void close() {
        process.destroy();
    }

}
