package dev.camelbatch.openaibatch.api;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(120)
class RetryPolicyTest {

    @Test
    void defaults() {
        RetryPolicy p = RetryPolicy.defaults();
        assertThat(p.getMaxAttempts()).isEqualTo(6);
        assertThat(p.getInitialDelay()).isEqualTo(Duration.ofMillis(500));
        assertThat(p.getMaxDelay()).isEqualTo(Duration.ofSeconds(60));
        assertThat(p.getMultiplier()).isEqualTo(2.0);
        assertThat(p.getJitter()).isEqualTo(0.2);
        assertThat(p.getMaxTotalTime()).isEqualTo(Duration.ofMinutes(5));
        assertThat(RetryPolicy.none().getMaxAttempts()).isEqualTo(1);
    }

    @Test
    void exponentialWithoutJitter() {
        RetryPolicy p = RetryPolicy.builder().jitter(0).build();
        assertThat(p.delayFor(1, null)).isEqualTo(Duration.ofMillis(500));
        assertThat(p.delayFor(2, null)).isEqualTo(Duration.ofMillis(1000));
        assertThat(p.delayFor(3, null)).isEqualTo(Duration.ofMillis(2000));
        assertThat(p.delayFor(8, null)).isEqualTo(Duration.ofMillis(64_000).compareTo(p.getMaxDelay()) > 0
                ? p.getMaxDelay() : Duration.ofMillis(64_000));
        assertThat(p.delayFor(1000, null)).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void jitterStaysInItsBand() {
        RetryPolicy p = RetryPolicy.defaults();
        for (int i = 0; i < 500; i++) {
            long ms = p.delayFor(3, null).toMillis();
            assertThat(ms).isBetween(1600L, 2400L);
        }
        for (int i = 0; i < 100; i++) {
            assertThat(p.delayFor(50, null)).isLessThanOrEqualTo(Duration.ofSeconds(60));
        }
    }

    @Test
    void serverHintWinsAndIsCapped() {
        RetryPolicy p = RetryPolicy.defaults();
        assertThat(p.delayFor(1, Duration.ofSeconds(7))).isEqualTo(Duration.ofSeconds(7));
        assertThat(p.delayFor(5, Duration.ZERO)).isEqualTo(Duration.ZERO);
        assertThat(p.delayFor(1, Duration.ofMinutes(10))).isEqualTo(Duration.ofSeconds(60));
        assertThat(p.delayFor(1, Duration.ofSeconds(-1))).isBetween(Duration.ofMillis(400), Duration.ofMillis(600));
    }

    @Test
    void allowsRetryHonoursAttemptsAndTotalTime() {
        RetryPolicy p = RetryPolicy.builder().maxAttempts(3).maxTotalTime(Duration.ofSeconds(10)).build();
        assertThat(p.allowsRetry(1, Duration.ZERO, Duration.ofSeconds(1))).isTrue();
        assertThat(p.allowsRetry(2, Duration.ZERO, Duration.ofSeconds(1))).isTrue();
        assertThat(p.allowsRetry(3, Duration.ZERO, Duration.ofSeconds(1))).isFalse();
        assertThat(p.allowsRetry(1, Duration.ofSeconds(9), Duration.ofSeconds(2))).isFalse();
        assertThat(p.allowsRetry(1, Duration.ofSeconds(8), Duration.ofSeconds(2))).isTrue();
    }

    @Test
    void parsesRetryAfterForms() {
        Clock clock = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);
        assertThat(RetryPolicy.parseRetryAfter(null, "3", clock)).isEqualTo(Duration.ofSeconds(3));
        assertThat(RetryPolicy.parseRetryAfter(null, " 1.5 ", clock)).isEqualTo(Duration.ofMillis(1500));
        assertThat(RetryPolicy.parseRetryAfter("250", "3", clock)).isEqualTo(Duration.ofMillis(250));
        assertThat(RetryPolicy.parseRetryAfter("12.2", null, clock)).isEqualTo(Duration.ofMillis(13));
        assertThat(RetryPolicy.parseRetryAfter("bogus", "2", clock)).isEqualTo(Duration.ofSeconds(2));
        assertThat(RetryPolicy.parseRetryAfter(null, "Wed, 01 Jan 2025 00:00:30 GMT", clock))
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(RetryPolicy.parseRetryAfter(null, "Tue, 31 Dec 2024 23:00:00 GMT", clock))
                .isEqualTo(Duration.ZERO);
        assertThat(RetryPolicy.parseRetryAfter(null, "soon", clock)).isNull();
        assertThat(RetryPolicy.parseRetryAfter(null, "-5", clock)).isNull();
        assertThat(RetryPolicy.parseRetryAfter(null, null, clock)).isNull();
        assertThat(RetryPolicy.parseRetryAfter("", "", clock)).isNull();
    }

    @Test
    void builderValidates() {
        assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RetryPolicy.builder().multiplier(0.5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RetryPolicy.builder().jitter(1.0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RetryPolicy.builder().initialDelay(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        RetryPolicy p = RetryPolicy.builder().maxAttempts(2).build();
        assertThat(p.toBuilder().build()).isEqualTo(p).hasSameHashCodeAs(p);
    }
}
