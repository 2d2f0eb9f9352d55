package dev.camelbatch.openaibatch.engine;

/** Receives batch events; called on the engine's thread, must not block for long. */
@FunctionalInterface
public interface EngineListener {

    void onEvent(BatchEvent event);
}
