package dev.camelbatch.openaibatch.simulator;

import java.time.Clock;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Identifier generation in the formats the OpenAI API uses. Identifiers are random (not seeded) so that
 * they never repeat across {@link BatchSimulator#reset()} or between simulators sharing a storage directory. They need
 * not be unguessable, so they come from {@link ThreadLocalRandom} (randomly seeded per JVM and thread): a
 * {@code SecureRandom} call per character cost the simulator more than half of its CPU time at a million lines.
 */
final class Ids {

    private static final char[] ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Ids() {
    }

    static String file() {
        return "file-" + alnum(22);
    }

    static String batch() {
        return "batch_" + hex(32);
    }

    static String batchRequest() {
        return "batch_req_" + hex(32);
    }

    static String request() {
        return "req_" + hex(32);
    }

    static String alnum(int n) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = ALNUM[random.nextInt(ALNUM.length)];
        }
        return new String(c);
    }

    static String hex(int n) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        char[] c = new char[n];
        long bits = 0;
        for (int i = 0; i < n; i++) {
            if ((i & 15) == 0) {
                bits = random.nextLong();
            }
            c[i] = HEX[(int) (bits & 15)];
            bits >>>= 4;
        }
        return new String(c);
    }

    static long nowSeconds(Clock clock) {
        return clock.millis() / 1000L;
    }
}
