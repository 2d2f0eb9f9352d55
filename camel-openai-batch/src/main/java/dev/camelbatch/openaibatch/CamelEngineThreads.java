package dev.camelbatch.openaibatch;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

import dev.camelbatch.openaibatch.engine.EngineThreads;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.ExecutorServiceManager;

/**
 * The engine's threads from Camel's {@link ExecutorServiceManager}: named after the context (e.g.
 * {@code Camel (camel-1) thread #4 - openai-batch-engine-reviews}), visible to Camel's management, and shut down
 * with the context should the engine not have stopped them.
 */
final class CamelEngineThreads implements EngineThreads {

    private final ExecutorServiceManager manager;
    private final Object source;

    CamelEngineThreads(CamelContext context, Object source) {
        this.manager = context.getExecutorServiceManager();
        this.source = source;
    }

    @Override
    public ScheduledExecutorService newScheduler(String name) {
        return manager.newSingleThreadScheduledExecutor(source, name);
    }

    @Override
    public ExecutorService newThread(String name) {
        return manager.newSingleThreadExecutor(source, name);
    }

    @Override
    public void shutdownGraceful(ExecutorService executor, long millis) {
        manager.shutdownGraceful(executor, millis);
    }

    @Override
    public void shutdownNow(ExecutorService executor) {
        manager.shutdownNow(executor);
    }
}
