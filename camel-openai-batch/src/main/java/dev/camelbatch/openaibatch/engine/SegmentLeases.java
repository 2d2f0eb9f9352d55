package dev.camelbatch.openaibatch.engine;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.LeaseLostException;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases that one engine (one node) holds on the segments it drives, for stores shared by several nodes
 * ({@link BatchStore#supportsLeases()}); with other stores every claim succeeds and nothing is renewed.
 * <p>
 * The engine claims a segment before it submits, polls or emits it. A heartbeat thread renews the leases every
 * quarter of the lease duration, so that they outlive long uploads, downloads and emissions; the engine's cycle
 * renews them too when the heartbeat is late. A node whose renewals fail for half the lease duration stops trusting
 * its leases and claims each segment again before acting (which fails while the database is out of reach). A
 * segment newly claimed (taken over from another node, or held again after a renewal gap) is read again; when it is in
 * UPLOADING or CREATING the {@link Submitter} reconciles it with the API before anything is sent, so that an upload or
 * a batch that the previous holder may have made is found instead of made again. Right before an upload or a create,
 * the lease is {@linkplain #confirm(String) confirmed} with the store, so that a node paused past its lease does not
 * make a batch that the node taking over makes too.
 */
public final class SegmentLeases implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SegmentLeases.class);

    private final BatchStore store;
    private final String owner;
    private final long leaseMillis;
    private final long renewEveryMillis;
    private final boolean enabled;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private volatile long lastRenewedNanos;
    private volatile long lastAttemptNanos;
    private ScheduledExecutorService heartbeat;
    private EngineThreads threads;

    public SegmentLeases(BatchStore store, String owner, long leaseMillis) {
        this.store = store;
        this.owner = owner;
        this.leaseMillis = Math.max(100, leaseMillis);
        this.renewEveryMillis = Math.max(25, this.leaseMillis / 4);
        this.enabled = store.supportsLeases();
    }

    /**
     * Host name (the pod name on Kubernetes), process id and a random part: unique per node and per life of a node,
     * also where containers share a host name pattern and every process is pid 1.
     */
    public static String defaultNodeId() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException | RuntimeException e) {
                host = "localhost";
            }
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    }

    public boolean enabled() {
        return enabled;
    }

    public String owner() {
        return owner;
    }

    public long leaseMillis() {
        return leaseMillis;
    }

    /** Starts the heartbeat (stores with leases only), on a thread of {@code threads}. */
    public synchronized void start(EngineThreads threads) {
        if (!enabled || heartbeat != null) {
            return;
        }
        lastRenewedNanos = System.nanoTime();
        this.threads = threads;
        heartbeat = threads.newScheduler("openai-batch-leases-" + store.name());
        heartbeat.scheduleWithFixedDelay(this::renewIfDue, renewEveryMillis, renewEveryMillis, TimeUnit.MILLISECONDS);
        LOG.info("Store '{}': node '{}' drives the segments it leases (lease {} ms, renewed every {} ms)",
                store.name(), owner, leaseMillis, renewEveryMillis);
    }

    /** Renews the leases when a quarter of the lease duration has passed since the last attempt. */
    public void renewIfDue() {
        if (enabled && System.nanoTime() - lastAttemptNanos >= renewEveryMillis * 1_000_000L) {
            renew();
        }
    }

    /** Renews every lease of this node now; forgets those that another node has taken over. */
    public synchronized void renew() {
        if (!enabled) {
            return;
        }
        lastAttemptNanos = System.nanoTime();
        try {
            Set<String> still = store.renewLeases(owner, leaseMillis);
            for (String id : held) {
                if (!still.contains(id)) {
                    held.remove(id);
                    LOG.warn("Store '{}': node '{}' lost the lease of segment {} to another node", store.name(),
                            owner, id);
                }
            }
            lastRenewedNanos = System.nanoTime();
        } catch (IOException | RuntimeException e) {
            long since = (System.nanoTime() - lastRenewedNanos) / 1_000_000L;
            LOG.warn("Store '{}': node '{}' cannot renew its leases ({} ms since the last renewal): {}", store.name(),
                    owner, since, e.toString());
        }
    }

    /** Whether the last successful renewal is recent enough to act on the leases held without asking again. */
    private boolean current() {
        return System.nanoTime() - lastRenewedNanos < leaseMillis * 500_000L;
    }

    /**
     * Claims a segment for this node before it acts on it.
     *
     * @param s the segment as last read
     * @return the segment to act on (read again when newly claimed), or {@code null} when another node holds it, it
     *         is gone, or the store cannot be reached
     */
    public synchronized SegmentInfo claim(SegmentInfo s) {
        if (!enabled) {
            return s;
        }
        String id = s.getId();
        boolean trusted = current();
        if (trusted && held.contains(id)) {
            return s;
        }
        try {
            if (!store.tryClaim(id, owner, leaseMillis)) {
                held.remove(id);
                return null;
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("Store '{}': cannot claim segment {}: {}", store.name(), id, e.toString());
            return null;
        }
        boolean fresh = held.add(id) || !trusted;
        if (!fresh) {
            return s;
        }
        SegmentInfo now = store.segment(id);
        if (now == null) {
            held.remove(id);
            return null;
        }
        LOG.debug("Store '{}': node '{}' claimed segment {} ({})", store.name(), owner, id, now.getStatus());
        return now;
    }

    /**
     * Confirms with the store, now, that this node holds the segment's lease (and extends it), before a call that
     * makes something at the service.
     *
     * @throws LeaseLostException when another node holds it
     */
    public void confirm(String segmentId) throws IOException {
        if (!enabled) {
            return;
        }
        if (!store.tryClaim(segmentId, owner, leaseMillis)) {
            held.remove(segmentId);
            throw new LeaseLostException(segmentId, owner, null);
        }
    }

    /** Whether this node holds the segment's lease (as far as it knows). */
    public boolean holds(String segmentId) {
        return !enabled || held.contains(segmentId);
    }

    /** The segment was completed, or its lease was found lost ({@link LeaseLostException}): forget it. */
    public void forget(String segmentId) {
        held.remove(segmentId);
    }

    /** Stops the heartbeat and gives every lease up, so that other nodes take the segments over at once. */
    public synchronized void releaseAll() {
        if (!enabled) {
            return;
        }
        if (heartbeat != null) {
            threads.shutdownNow(heartbeat);
            heartbeat = null;
        }
        try {
            store.releaseLeases(owner);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Store '{}': node '{}' cannot release its leases (they expire in {} ms): {}", store.name(),
                    owner, leaseMillis, e.toString());
        }
        held.clear();
    }

    @Override
    public void close() {
        releaseAll();
    }
}
