package dev.camelbatch.openaibatch.engine;

/** Where the engine delivers the lines of finished batches (the consumer). */
@FunctionalInterface
public interface LineSink {

    /**
     * Delivers one line synchronously.
     *
     * @return {@code true} when the line was processed successfully and may be checkpointed; {@code false} to stop
     *         emitting this batch now and deliver the same line again later
     */
    boolean deliver(EmittedLine line);
}
