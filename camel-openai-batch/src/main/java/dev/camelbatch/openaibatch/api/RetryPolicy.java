package dev.camelbatch.openaibatch.api;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Immutable retry policy: exponential backoff with jitter, bounded by a number of attempts and by a total time.
 * <p>
 * {@code maxAttempts} counts every attempt, the first one included (6 = one call and up to five retries). The delay
 * before retry {@code n} (n = 1 after the first failed attempt) is {@code initialDelay * multiplier^(n-1)}, capped by
 * {@code maxDelay}, then spread by a random factor in {@code [1 - jitter, 1 + jitter]} (and capped again). A hint sent
 * by the server ({@code retry-after-ms}, {@code Retry-After} in seconds or as an HTTP-date) wins over the computed
 * backoff, capped by {@code maxDelay}.
 */
public final class RetryPolicy {

    private static final RetryPolicy DEFAULTS = builder().build();
    private static final RetryPolicy NONE = builder().maxAttempts(1).build();

    private final int maxAttempts;
    private final Duration initialDelay;
    private final Duration maxDelay;
    private final double multiplier;
    private final double jitter;
    private final Duration maxTotalTime;

    private RetryPolicy(Builder b) {
        this.maxAttempts = b.maxAttempts;
        this.initialDelay = b.initialDelay;
        this.maxDelay = b.maxDelay;
        this.multiplier = b.multiplier;
        this.jitter = b.jitter;
        this.maxTotalTime = b.maxTotalTime;
    }

    /** The defaults: 6 attempts, 500 ms initial delay, x2.0, 20 % jitter, at most 60 s between attempts, 5 min total. */
    public static RetryPolicy defaults() {
        return DEFAULTS;
    }

    /** A policy that never retries (one attempt). */
    public static RetryPolicy none() {
        return NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().maxAttempts(maxAttempts).initialDelay(initialDelay).maxDelay(maxDelay)
                .multiplier(multiplier).jitter(jitter).maxTotalTime(maxTotalTime);
    }

    public int getMaxAttempts() {
        return maxAttempts;
    }

    public Duration getInitialDelay() {
        return initialDelay;
    }

    public Duration getMaxDelay() {
        return maxDelay;
    }

    public double getMultiplier() {
        return multiplier;
    }

    public double getJitter() {
        return jitter;
    }

    public Duration getMaxTotalTime() {
        return maxTotalTime;
    }

    /**
     * The delay to wait before the next attempt.
     *
     * @param attempt        the number of the attempt that just failed, starting at 1
     * @param retryAfterHint the server's hint (see {@link #parseRetryAfter}), or {@code null}; a non-negative hint
     *                       wins over the computed backoff and is capped by {@code maxDelay}
     * @return the delay, never negative and never longer than {@code maxDelay}
     */
    public Duration delayFor(int attempt, Duration retryAfterHint) {
        if (retryAfterHint != null && !retryAfterHint.isNegative()) {
            return retryAfterHint.compareTo(maxDelay) > 0 ? maxDelay : retryAfterHint;
        }
        int n = Math.max(1, attempt);
        double base = initialDelay.toMillis() * Math.pow(multiplier, n - 1);
        double capped = Math.min(base, (double) maxDelay.toMillis());
        double factor = jitter > 0 ? 1.0 + ThreadLocalRandom.current().nextDouble(-jitter, jitter) : 1.0;
        long millis = Math.round(capped * factor);
        millis = Math.max(0, Math.min(millis, maxDelay.toMillis()));
        return Duration.ofMillis(millis);
    }

    /**
     * Whether another attempt may be made after {@code attemptsMade} attempts, given the time already spent and the
     * delay that would be waited first.
     */
    public boolean allowsRetry(int attemptsMade, Duration elapsed, Duration nextDelay) {
        if (attemptsMade >= maxAttempts) {
            return false;
        }
        return elapsed.plus(nextDelay).compareTo(maxTotalTime) <= 0;
    }

    /**
     * Parses the server's retry hint. {@code retry-after-ms} (milliseconds, possibly fractional) wins over
     * {@code Retry-After}, which is either a number of seconds (possibly fractional) or an HTTP-date (RFC 1123).
     *
     * @return the hint, or {@code null} when none is present or none can be parsed; a date in the past gives zero
     */
    public static Duration parseRetryAfter(String retryAfterMs, String retryAfter, Clock clock) {
        if (retryAfterMs != null && !retryAfterMs.isBlank()) {
            try {
                double ms = Double.parseDouble(retryAfterMs.trim());
                if (ms >= 0 && !Double.isNaN(ms) && !Double.isInfinite(ms)) {
                    return Duration.ofMillis((long) Math.ceil(ms));
                }
            } catch (NumberFormatException e) {
                // fall through to Retry-After
            }
        }
        if (retryAfter == null || retryAfter.isBlank()) {
            return null;
        }
        String v = retryAfter.trim();
        try {
            double seconds = Double.parseDouble(v);
            if (seconds >= 0 && !Double.isNaN(seconds) && !Double.isInfinite(seconds)) {
                return Duration.ofMillis((long) Math.ceil(seconds * 1000.0));
            }
            return null;
        } catch (NumberFormatException e) {
            // maybe an HTTP-date
        }
        try {
            ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME.withLocale(Locale.US));
            Duration d = Duration.between(clock.instant(), at.toInstant());
            return d.isNegative() ? Duration.ZERO : d;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof RetryPolicy)) {
            return false;
        }
        RetryPolicy that = (RetryPolicy) o;
        return maxAttempts == that.maxAttempts && Double.compare(multiplier, that.multiplier) == 0
                && Double.compare(jitter, that.jitter) == 0 && initialDelay.equals(that.initialDelay)
                && maxDelay.equals(that.maxDelay) && maxTotalTime.equals(that.maxTotalTime);
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxAttempts, initialDelay, maxDelay, multiplier, jitter, maxTotalTime);
    }

    @Override
    public String toString() {
        return "RetryPolicy{maxAttempts=" + maxAttempts + ", initialDelay=" + initialDelay + ", maxDelay=" + maxDelay
                + ", multiplier=" + multiplier + ", jitter=" + jitter + ", maxTotalTime=" + maxTotalTime + '}';
    }

    public static final class Builder {
        private int maxAttempts = 6;
        private Duration initialDelay = Duration.ofMillis(500);
        private Duration maxDelay = Duration.ofSeconds(60);
        private double multiplier = 2.0;
        private double jitter = 0.2;
        private Duration maxTotalTime = Duration.ofMinutes(5);

        private Builder() {
        }

        /** Total number of attempts, the first included; at least 1. */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be >= 1, was " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        public Builder initialDelay(Duration initialDelay) {
            this.initialDelay = nonNegative(initialDelay, "initialDelay");
            return this;
        }

        public Builder maxDelay(Duration maxDelay) {
            this.maxDelay = nonNegative(maxDelay, "maxDelay");
            return this;
        }

        /** Growth factor between two delays; at least 1.0. */
        public Builder multiplier(double multiplier) {
            if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
                throw new IllegalArgumentException("multiplier must be >= 1.0, was " + multiplier);
            }
            this.multiplier = multiplier;
            return this;
        }

        /** Random spread of each delay, as a fraction in [0, 1). */
        public Builder jitter(double jitter) {
            if (!(jitter >= 0.0 && jitter < 1.0)) {
                throw new IllegalArgumentException("jitter must be in [0, 1), was " + jitter);
            }
            this.jitter = jitter;
            return this;
        }

        /** Upper bound of the time spent on one call, retries and waits included. */
        public Builder maxTotalTime(Duration maxTotalTime) {
            this.maxTotalTime = nonNegative(maxTotalTime, "maxTotalTime");
            return this;
        }

        public RetryPolicy build() {
            return new RetryPolicy(this);
        }

        private static Duration nonNegative(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative, was " + d);
            }
            return d;
        }
    }
}
