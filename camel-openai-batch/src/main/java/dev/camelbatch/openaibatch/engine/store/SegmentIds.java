package dev.camelbatch.openaibatch.engine.store;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/** Segment ids: sortable by creation time, unique across restarts and nodes ({@code seg-<time>-<random>}). */
public final class SegmentIds {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong LAST = new AtomicLong();

    private SegmentIds() {
    }

    public static String next() {
        long now = System.currentTimeMillis();
        long t = LAST.updateAndGet(prev -> Math.max(prev + 1, now));
        StringBuilder sb = new StringBuilder("seg-");
        String ts = Long.toString(t, 36);
        sb.append("0".repeat(Math.max(0, 9 - ts.length()))).append(ts).append('-');
        for (int i = 0; i < 8; i++) {
            sb.append(Character.forDigit(RANDOM.nextInt(36), 36));
        }
        return sb.toString();
    }
}
