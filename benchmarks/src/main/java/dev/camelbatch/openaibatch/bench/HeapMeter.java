package dev.camelbatch.openaibatch.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;

/**
 * Heap figures of a benchmark phase: the peak of heap used (what the JVM had to hold, garbage included, which depends
 * on -Xmx) and the largest heap left after a collection (the live set: what the code really keeps).
 */
final class HeapMeter implements AutoCloseable {

    private final List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP).toList();
    private final Thread sampler;
    private volatile boolean running = true;
    private volatile long maxLive;

    HeapMeter() {
        System.gc();
        pools.forEach(MemoryPoolMXBean::resetPeakUsage);
        sampler = new Thread(() -> {
            while (running) {
                long live = 0;
                for (MemoryPoolMXBean p : pools) {
                    MemoryUsage u = p.getCollectionUsage();
                    if (u != null) {
                        live += u.getUsed();
                    }
                }
                maxLive = Math.max(maxLive, live);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "heap-meter");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Peak heap used in MB (sum of the pools' peaks: an upper bound). */
    double peakMb() {
        long sum = 0;
        for (MemoryPoolMXBean p : pools) {
            sum += p.getPeakUsage().getUsed();
        }
        return sum / 1048576.0;
    }

    /** Largest heap in use right after a garbage collection, in MB. */
    double maxLiveMb() {
        return maxLive / 1048576.0;
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }

    static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, max heap "
               + Runtime.getRuntime().maxMemory() / 1048576 + " MB, Java " + System.getProperty("java.version");
    }
}
