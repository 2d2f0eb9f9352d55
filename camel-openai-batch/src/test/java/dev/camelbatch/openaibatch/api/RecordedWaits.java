package dev.camelbatch.openaibatch.api;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The retry loop's time for tests: every wait before a retry is recorded instead of slept, and time passes only by
 * those waits (the wall clock starts at a fixed instant). A test then asserts the waits the client chose, exactly,
 * and never depends on how fast the machine is.
 */
final class RecordedWaits implements RetryTime {

    private final Instant start;
    private final List<Duration> waits = new ArrayList<>();
    private long sleptNanos;

    RecordedWaits(Instant start) {
        this.start = start;
    }

    RecordedWaits() {
        this(Instant.parse("2025-03-01T12:00:00Z"));
    }

    @Override
    public synchronized Clock wallClock() {
        return new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return Clock.fixed(instant(), zone);
            }

            @Override
            public Instant instant() {
                synchronized (RecordedWaits.this) {
                    return start.plusNanos(sleptNanos);
                }
            }
        };
    }

    @Override
    public synchronized long nanoTime() {
        return sleptNanos;
    }

    @Override
    public synchronized void sleep(Duration delay) {
        waits.add(delay);
        sleptNanos += delay.toNanos();
    }

    /** The waits before each retry, in order. */
    synchronized List<Duration> waits() {
        return new ArrayList<>(waits);
    }

    /** The waits in milliseconds. */
    synchronized List<Long> millis() {
        return waits.stream().map(Duration::toMillis).toList();
    }

    Instant start() {
        return start;
    }
}
