package dev.camelbatch.openaibatch.engine.usage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchStatus;

/**
 * Turns successive observations of batches (request counts, status) into {@link BatchProgress}: percentage, rate and
 * an estimated time to completion from the rate observed since progress was first seen (or, before two observations
 * differ, since the batch went {@code in_progress}). Also tells when a batch's progress is due for a log line: the
 * first observation, every {@code logInterval}, and the end.
 */
public final class ProgressTracker {

    private final long logIntervalMillis;
    private final Map<String, State> states = new ConcurrentHashMap<>();

    private static final class State {
        long firstAt;
        long firstDone = -1;
        long lastLoggedAt;
        BatchProgress last;
    }

    public ProgressTracker(long logIntervalMillis) {
        this.logIntervalMillis = logIntervalMillis;
    }

    /** Records an observation of a batch object. */
    public BatchProgress update(Batch b, long now) {
        int completed = 0;
        int failed = 0;
        int total = 0;
        if (b.getRequestCounts() != null) {
            completed = nz(b.getRequestCounts().getCompleted());
            failed = nz(b.getRequestCounts().getFailed());
            total = nz(b.getRequestCounts().getTotal());
        }
        return update(b.getId(), b.getStatus(), completed, failed, total, b.getInProgressAt(), now);
    }

    /**
     * Records an observation.
     *
     * @param inProgressAt when the batch went in_progress (epoch seconds, from the API), or {@code null}
     */
    public BatchProgress update(String batchId, String status, int completed, int failed, int total,
            Long inProgressAt, long now) {
        State st = states.computeIfAbsent(batchId, k -> new State());
        int done = completed + failed;
        BatchStatus bs = BatchStatus.fromValue(status);
        boolean terminal = bs != null && bs.isTerminal();
        synchronized (st) {
            if (st.firstDone < 0 || done < st.firstDone) {
                st.firstAt = now;
                st.firstDone = done;
            }
            Double rate = null;
            if (done > st.firstDone && now > st.firstAt) {
                rate = (done - st.firstDone) * 1000.0 / (now - st.firstAt);
            } else if (inProgressAt != null && done > 0 && now > inProgressAt * 1000) {
                rate = done * 1000.0 / (now - inProgressAt * 1000);
            }
            double percent = terminal ? 100.0 : total > 0 ? Math.round(1000.0 * done / total) / 10.0 : 0.0;
            Long eta;
            if (terminal) {
                eta = 0L;
            } else if (rate != null && rate > 0 && total > 0) {
                eta = (long) Math.ceil(Math.max(0, total - done) / rate);
            } else {
                eta = null;
            }
            st.last = new BatchProgress(batchId, status, completed, failed, total, percent, rate, eta, now);
            return st.last;
        }
    }

    /** Whether the batch's progress should be logged now (first time, every logInterval, or at the end). */
    public boolean dueForLog(String batchId, long now) {
        State st = states.get(batchId);
        if (st == null) {
            return false;
        }
        synchronized (st) {
            boolean terminal = st.last != null && BatchStatus.fromValue(st.last.status()) != null
                               && BatchStatus.fromValue(st.last.status()).isTerminal();
            if (st.lastLoggedAt == 0 || terminal || now - st.lastLoggedAt >= logIntervalMillis) {
                st.lastLoggedAt = now;
                return true;
            }
            return false;
        }
    }

    /** The last progress of a batch, or {@code null}. */
    public BatchProgress get(String batchId) {
        State st = batchId != null ? states.get(batchId) : null;
        return st == null ? null : st.last;
    }

    /** The last progress of every batch tracked. */
    public List<BatchProgress> all() {
        List<BatchProgress> l = new ArrayList<>();
        for (State st : states.values()) {
            if (st.last != null) {
                l.add(st.last);
            }
        }
        l.sort((a, b) -> a.batchId().compareTo(b.batchId()));
        return l;
    }

    public void remove(String batchId) {
        if (batchId != null) {
            states.remove(batchId);
        }
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
