package dev.camelbatch.openaibatch.simulator;

import java.security.SecureRandom;
import java.time.Clock;

/**
 * Identifier generation in the formats the OpenAI API uses. Identifiers are random (not seeded) so that
 * they never repeat across {@link BatchSimulator#reset()} or between simulators sharing a storage directory.
 */
final class Ids {

    private static final SecureRandom RANDOM = new SecureRandom();
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
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = ALNUM[RANDOM.nextInt(ALNUM.length)];
        }
        return new String(c);
    }

    static String hex(int n) {
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = HEX[RANDOM.nextInt(HEX.length)];
        }
        return new String(c);
    }

    static long nowSeconds(Clock clock) {
        return clock.millis() / 1000L;
    }
}
