package dev.camelbatch.openaibatch.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * CPU time of a benchmark phase by thread kind (thread names with their numbers taken out), sampled every 50 ms so
 * that short-lived threads (one parse-ahead thread per batch) are counted too; a thread's last sample stands for it,
 * so a thread that dies between two samples loses at most 50 ms. JIT and GC threads are not Java threads: on Linux
 * they are read from {@code /proc/self/task} (kinds {@code jit} and {@code gc}, 10 ms ticks); elsewhere what is
 * missing from the process's CPU time is theirs.
 */
final class ThreadCpuMeter implements AutoCloseable {

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> start = new HashMap<>();
    private final Map<Long, Long> last = new HashMap<>();
    /** The part of a thread's CPU time spent in the kernel (system calls, page faults), at start and last seen. */
    private final Map<Long, Long> startKernel = new HashMap<>();
    private final Map<Long, Long> lastKernel = new HashMap<>();
    private final Map<Long, String> names = new HashMap<>();
    private final Thread sampler;
    private volatile boolean running = true;

    ThreadCpuMeter() {
        sample(true);
        sampler = new Thread(() -> {
            while (running) {
                sample(false);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "thread-cpu-meter");
        sampler.setDaemon(true);
        sampler.start();
    }

    private int ticks;

    private synchronized void sample(boolean first) {
        // reading /proc costs more than the MXBean: JIT and GC threads live long, once a second is enough
        if (first || ticks++ % 20 == 0 || !running) {
            sampleNative(first);
        }
        for (long id : threads.getAllThreadIds()) {
            long cpu = threads.getThreadCpuTime(id);
            long user = threads.getThreadUserTime(id);
            if (cpu < 0 || user < 0) {
                continue;
            }
            if (first) {
                start.put(id, cpu);
                startKernel.put(id, cpu - user);
            }
            if (!names.containsKey(id)) {
                ThreadInfo info = threads.getThreadInfo(id);
                if (info == null) {
                    continue;
                }
                names.put(id, info.getThreadName().replaceAll("\\d+", "N"));
            }
            last.put(id, cpu);
            lastKernel.put(id, cpu - user);
        }
    }

    /** JIT and GC threads from /proc (Linux); keyed by negative task ids so they never meet Java thread ids. */
    private void sampleNative(boolean first) {
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return;
        }
        for (java.io.File t : tasks) {
            String stat;
            try {
                stat = java.nio.file.Files.readString(t.toPath().resolve("stat"));
            } catch (java.io.IOException | RuntimeException e) {
                continue; // ended meanwhile
            }
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            if (open < 0 || close < open) {
                continue;
            }
            String comm = stat.substring(open + 1, close);
            String kind = comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler") ? "jit"
                    : comm.startsWith("GC Thread") || comm.startsWith("G1 ") ? "gc" : null;
            if (kind == null) {
                continue;
            }
            String[] f = stat.substring(close + 2).split(" ");
            // fields after the name: state(3) ... utime(14) stime(15), counted from 1 with pid and comm
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            long id = -Long.parseLong(t.getName());
            long cpu = ticks * 10_000_000L;
            long kernel = Long.parseLong(f[12]) * 10_000_000L;
            if (first) {
                start.put(id, cpu);
                startKernel.put(id, kernel);
            }
            names.putIfAbsent(id, kind);
            last.put(id, cpu);
            lastKernel.put(id, kernel);
        }
    }

    /** CPU seconds by thread kind, largest first. */
    synchronized Map<String, Double> byKind() {
        return byKind(last, start);
    }

    /** Of {@link #byKind()}, the seconds spent in the kernel. */
    synchronized Map<String, Double> kernelByKind() {
        return byKind(lastKernel, startKernel);
    }

    private Map<String, Double> byKind(Map<Long, Long> last, Map<Long, Long> start) {
        Map<String, Double> sum = new HashMap<>();
        for (Map.Entry<Long, Long> e : last.entrySet()) {
            double s = (e.getValue() - start.getOrDefault(e.getKey(), 0L)) / 1e9;
            sum.merge(names.getOrDefault(e.getKey(), "?"), s, Double::sum);
        }
        return sum.entrySet().stream().sorted(Map.Entry.<String, Double> comparingByValue().reversed())
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
    }

    /** The kinds above 0.1 s, as "kind 1.2 s, ..." (with "(kernel 0.3 s)" where 0.1 s or more of it was). */
    String describe() {
        Map<String, Double> kernel = kernelByKind();
        return byKind().entrySet().stream().filter(e -> e.getValue() >= 0.1)
                .map(e -> {
                    double k = kernel.getOrDefault(e.getKey(), 0.0);
                    return String.format(k >= 0.1 ? "%s %.1f s (kernel %.1f s)" : "%s %.1f s", e.getKey(),
                            e.getValue(), k);
                }).collect(Collectors.joining(", "));
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
        sample(false);
    }
}
