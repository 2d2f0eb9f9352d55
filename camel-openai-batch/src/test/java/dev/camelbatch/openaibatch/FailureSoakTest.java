package dev.camelbatch.openaibatch;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The short soaks of the default build: 2 000 requests with 30 % of API calls failing at random before they are
 * handled (no retries inside the API client, so every fault reaches the engine), and 3 000 requests in 12 batches
 * with 30 % of the answers of every POST and DELETE lost after the call took effect; both with 5 % of the downloads
 * cut short and one forced expiry. The long one is {@link FailureSoakLargeTest}.
 */
@Timeout(600)
class FailureSoakTest extends FailureSoakSupport {

    @Test
    void twoThousandRequestsThirtyPercentFaultsOneExpiry() throws Exception {
        Figures f = soak("soak2k", 2_000, 100, 1, Duration.ofSeconds(60));
        assertThat(f.batchesCreated()).isGreaterThanOrEqualTo(21); // 20 segments + the expired one's retry
    }

    @Test
    void threeThousandRequestsThirtyPercentLostAnswersOneExpiry() throws Exception {
        Figures f = soak("lost3k", 3_000, 250, 3, Duration.ofSeconds(90), Faults.LOST_ANSWERS);
        assertThat(f.batchesCreated()).isEqualTo(13); // 12 segments + the expired one's retry
        assertThat(f.engine().remoteCopiesAdopted.get()).as("uploads and batches found after a lost answer")
                .isPositive();
    }
}
