package dev.camelbatch.openaibatch.engine.store;

/**
 * When spooled requests are forced from the operating system's page cache to the disk.
 * <p>
 * Whatever the policy, a request has reached the operating system (a completed {@code write}) when the producer
 * returns, so killing the JVM never loses an acknowledged request. The policy decides what an OS crash or a power
 * loss can take:
 * <ul>
 * <li>{@link #ALWAYS}: fsync before the producer returns; concurrent producers share one fsync (group commit).</li>
 * <li>{@link #INTERVAL} (default): a background fsync every {@code syncInterval}; a power loss can take the requests
 * of the last interval.</li>
 * <li>{@link #NEVER}: left to the operating system.</li>
 * </ul>
 */
public enum SyncPolicy {
    ALWAYS,
    INTERVAL,
    NEVER
}
