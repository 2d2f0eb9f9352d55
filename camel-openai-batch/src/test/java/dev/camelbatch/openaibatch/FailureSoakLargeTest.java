package dev.camelbatch.openaibatch;

import java.time.Duration;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The long soak, excluded from the default build (JUnit tag {@code soak}); run it with the Maven profile
 * {@code soak} (see docs/failure-modes.md): 100 000 requests in batches of 5 000, 30 % of API calls failing at
 * random, 5 % of the downloads cut short, one forced expiry. {@code -Dsoak.requests=N}, {@code -Dsoak.maxRetries=N}
 * (API client attempts per call, default 1: every fault reaches the engine) and {@code -Dsoak.faults=LOST_ANSWERS}
 * (30 % of the answers of every POST and DELETE lost after the call took effect, instead of 30 % of all calls
 * failing before they are handled) change the run.
 */
@Tag("soak")
@Timeout(3600)
class FailureSoakLargeTest extends FailureSoakSupport {

    @Test
    void hundredThousandRequestsThirtyPercentFaultsOneExpiry() throws Exception {
        int n = Integer.getInteger("soak.requests", 100_000);
        int maxRetries = Integer.getInteger("soak.maxRetries", 1);
        Faults plan = Faults.valueOf(System.getProperty("soak.faults", Faults.BEFORE_EFFECT.name()));
        Figures f = soak("soak100k", n, 5_000, maxRetries, Duration.ofMinutes(20), plan);
        assertThat(f.requests()).isEqualTo(n);
    }
}
