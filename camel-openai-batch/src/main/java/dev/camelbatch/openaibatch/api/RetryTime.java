package dev.camelbatch.openaibatch.api;

import java.time.Clock;
import java.time.Duration;

/**
 * Time as {@link OpenAIBatchClient}'s retry loop sees it: the wall clock (to read a {@code Retry-After} date), a
 * monotonic reading (for {@link RetryPolicy#getMaxTotalTime()}) and the wait before a retry. The client uses
 * {@link #SYSTEM}; tests give their own to see the waits the client chose without waiting.
 */
interface RetryTime {

    /** The system clock, {@link System#nanoTime()} and {@link Thread#sleep(long)}. */
    RetryTime SYSTEM = new RetryTime() {
        private final Clock clock = Clock.systemUTC();

        @Override
        public Clock wallClock() {
            return clock;
        }

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleep(Duration delay) throws InterruptedException {
            Thread.sleep(delay.toMillis());
        }
    };

    /** The clock that dates in {@code Retry-After} are compared with. */
    Clock wallClock();

    /** A monotonic time in nanoseconds: the time spent on one call is the difference of two readings. */
    long nanoTime();

    /** Waits before the next attempt. */
    void sleep(Duration delay) throws InterruptedException;
}
