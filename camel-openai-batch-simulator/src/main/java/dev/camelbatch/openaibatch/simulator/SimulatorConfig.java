package dev.camelbatch.openaibatch.simulator;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/** Immutable settings of one simulator. */
record SimulatorConfig(String apiKey, int port, Path storageDir, Duration stepDelay, int linesPerStep,
        boolean azureMode, Map<String, Long> enqueuedTokenLimits, int expireAfterSteps, long seed,
        int maxRequestsPerBatch, long maxBatchFileBytes, long maxUploadBytes, int httpThreads, Clock clock,
        boolean recordExecutions) {

    /** Canonical route prefix used in stats keys and fault patterns. */
    static final String CANONICAL_PREFIX = "/v1";

    String pathPrefix() {
        return azureMode ? "/openai" : "/v1";
    }
}
