package dev.camelbatch.openaibatch.simulator;

import java.io.IOException;

/**
 * Thrown out of the HTTP handler to make the JDK server drop the connection (used for {@link Fault#CONNECTION_RESET}
 * and {@link Fault#TRUNCATED_DOWNLOAD}): the server closes the connection of a handler that fails.
 */
final class SimulatedFaultException extends IOException {

    private static final long serialVersionUID = 1L;

    SimulatedFaultException(String message) {
        super(message, null);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
