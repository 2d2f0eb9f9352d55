package dev.camelbatch.openaibatch.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Where the threads of an engine come from. In a Camel route they are Camel's (its {@code ExecutorServiceManager}:
 * named after the context, listed and shut down with it), so that the engine itself stays free of Camel; an engine
 * used on its own (tests, tools) takes {@link #plain()} daemon threads.
 */
public interface EngineThreads {

    /** A scheduler with one thread called {@code name}. */
    ScheduledExecutorService newScheduler(String name);

    /** An executor with one thread called {@code name}. */
    ExecutorService newThread(String name);

    /** Lets the executor finish what it runs for up to {@code millis}, then interrupts it. */
    void shutdownGraceful(ExecutorService executor, long millis);

    /** Interrupts what the executor runs and drops what waits. */
    void shutdownNow(ExecutorService executor);

    /** JDK daemon threads. */
    static EngineThreads plain() {
        return new EngineThreads() {
            @Override
            public ScheduledExecutorService newScheduler(String name) {
                return new ScheduledThreadPoolExecutor(1, r -> daemon(r, name));
            }

            @Override
            public ExecutorService newThread(String name) {
                return Executors.newSingleThreadExecutor(r -> daemon(r, name));
            }

            @Override
            public void shutdownGraceful(ExecutorService executor, long millis) {
                executor.shutdown();
                try {
                    if (!executor.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
                        executor.shutdownNow();
                    }
                } catch (InterruptedException e) {
                    executor.shutdownNow();
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void shutdownNow(ExecutorService executor) {
                executor.shutdownNow();
            }

            private Thread daemon(Runnable r, String name) {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            }
        };
    }
}
