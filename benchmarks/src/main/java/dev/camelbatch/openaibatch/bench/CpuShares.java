package dev.camelbatch.openaibatch.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who used the CPU during a benchmark phase (Linux): this JVM, the PostgreSQL server's processes (every process
 * named {@code postgres}: other clients of the server count too) and the whole machine (other builds included),
 * against the cores' capacity for the phase's wall time.
 */
final class CpuShares {

    private static final double TICK = 100.0;
    private final long wallStart = System.nanoTime();
    private final double jvmStart = jvmSeconds();
    private final double jvmKernelStart = SimulatorProcess.kernelSeconds(ProcessHandle.current().pid());
    private final double postgresStart = postgresSeconds();
    private final double machineStart = machineSeconds();
    private final java.util.Map<String, Double> threadsStart = threadSeconds();

    /** A line: CPU seconds of this JVM, of PostgreSQL, of the whole machine, and the cores' capacity. */
    String report() {
        double wall = (System.nanoTime() - wallStart) / 1e9;
        int cores = Runtime.getRuntime().availableProcessors();
        return String.format("cpu: this JVM %.1f s (kernel %.1f s), PostgreSQL %.1f s, whole machine %.1f s of %.1f s"
                             + " (%d cores x %.1f s)", jvmSeconds() - jvmStart,
                SimulatorProcess.kernelSeconds(ProcessHandle.current().pid()) - jvmKernelStart,
                postgresSeconds() - postgresStart,
                machineSeconds() - machineStart, cores * wall, cores, wall);
    }

    /** This JVM's CPU seconds by kind of thread (names with digits folded), the largest first. */
    String threads() {
        java.util.Map<String, Double> now = threadSeconds();
        StringBuilder sb = new StringBuilder("cpu by thread:");
        now.entrySet().stream().map(e -> java.util.Map.entry(e.getKey(), e.getValue()
                                                                        - threadsStart.getOrDefault(e.getKey(), 0.0)))
                .filter(e -> e.getValue() >= 0.05).sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                .limit(8).forEach(e -> sb.append(String.format(" %s %.1f s,", e.getKey(), e.getValue())));
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    /** CPU seconds (user + kernel) of this JVM's threads from /proc/self/task, summed by folded name. */
    private static java.util.Map<String, Double> threadSeconds() {
        java.util.Map<String, Double> byName = new java.util.HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    String name = stat.substring(open + 1, close).replaceAll("[0-9]+", "N");
                    String[] f = stat.substring(close + 2).split(" ");
                    byName.merge(name, (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICK, Double::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return byName;
    }

    private static double jvmSeconds() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime() / 1e9;
        }
        return Double.NaN;
    }

    /**
     * utime + stime of every process named postgres, and the time of those that ended (the postmaster's children's
     * times: connections closed during the phase count too).
     */
    private static double postgresSeconds() {
        long ticks = 0;
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    if (!stat.substring(open + 1, close).equals("postgres")) {
                        continue;
                    }
                    String[] f = stat.substring(close + 2).split(" ");
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13])
                             + Long.parseLong(f[14]);
                } catch (IOException | RuntimeException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            return Double.NaN;
        }
        return ticks / TICK;
    }

    /** Busy time of all cores (user, nice, system, irq, softirq, steal) from /proc/stat. */
    private static double machineSeconds() {
        try {
            String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = cpu.trim().split("\\s+");
            long busy = Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                        + Long.parseLong(f[7]) + Long.parseLong(f[8]);
            return busy / TICK;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
