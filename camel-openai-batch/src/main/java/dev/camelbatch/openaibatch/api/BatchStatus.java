package dev.camelbatch.openaibatch.api;

import java.util.Locale;

/**
 * The statuses of a batch, as listed by the OpenAI spec. {@link Batch#getStatus()} keeps the raw string so that a
 * status unknown to this version never breaks parsing; use {@link #fromValue(String)} to map it.
 */
public enum BatchStatus {
    VALIDATING("validating", false),
    FAILED("failed", true),
    IN_PROGRESS("in_progress", false),
    FINALIZING("finalizing", false),
    COMPLETED("completed", true),
    EXPIRED("expired", true),
    CANCELLING("cancelling", false),
    CANCELLED("cancelled", true);

    private final String value;
    private final boolean terminal;

    BatchStatus(String value, boolean terminal) {
        this.value = value;
        this.terminal = terminal;
    }

    /** The wire value, e.g. {@code in_progress}. */
    public String value() {
        return value;
    }

    /** Whether no further status change will happen ({@code failed, completed, expired, cancelled}). */
    public boolean isTerminal() {
        return terminal;
    }

    /** Maps a wire value (case-insensitive); {@code null} when the value is {@code null} or unknown. */
    public static BatchStatus fromValue(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (BatchStatus s : values()) {
            if (s.value.equals(v)) {
                return s;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return value;
    }
}
