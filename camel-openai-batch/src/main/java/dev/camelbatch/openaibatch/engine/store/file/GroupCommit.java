package dev.camelbatch.openaibatch.engine.store.file;

import java.io.IOException;

/**
 * One fsync shared by all producers waiting at the same time: the first to arrive syncs, the others that came while
 * it did wait for it (or for the next one), so that a burst of {@code syncPolicy=ALWAYS} appends costs one fsync.
 */
final class GroupCommit {

    /** The sync itself. */
    @FunctionalInterface
    interface Sync {
        void run() throws IOException;
    }

    private final Sync sync;
    private long requested;
    private long completed;
    private boolean syncing;

    GroupCommit(Sync sync) {
        this.sync = sync;
    }

    void sync() throws IOException {
        long ticket;
        synchronized (this) {
            ticket = ++requested;
            while (true) {
                if (completed >= ticket) {
                    return;
                }
                if (!syncing) {
                    syncing = true;
                    break;
                }
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("Interrupted while waiting for fsync", e);
                }
            }
        }
        long upTo;
        synchronized (this) {
            upTo = requested;
        }
        try {
            sync.run();
        } finally {
            synchronized (this) {
                completed = Math.max(completed, upTo);
                syncing = false;
                notifyAll();
            }
        }
    }
}
