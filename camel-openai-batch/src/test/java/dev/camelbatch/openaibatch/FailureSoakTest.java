package dev.camelbatch.openaibatch;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The short soak of the default build: 2 000 requests, 30 % of API calls failing at random (no retries inside the
 * API client, so every fault reaches the engine), one forced expiry. The long one is {@link FailureSoakLargeTest}.
 */
@Timeout(600)
class FailureSoakTest extends FailureSoakSupport {

    @Test
    void twoThousandRequestsThirtyPercentFaultsOneExpiry() throws Exception {
        Figures f = soak("soak2k", 2_000, 100, 1, Duration.ofSeconds(60));
        assertThat(f.batchesCreated()).isGreaterThanOrEqualTo(21); // 20 segments + the expired one's retry
    }
}
