package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.nio.file.Path;
import java.util.List;

import dev.camelbatch.openaibatch.engine.store.LeaseLostException;
import dev.camelbatch.openaibatch.engine.store.SealReason;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.MAPPER;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.ROOMY;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.rec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Emission checkpoints held back ({@link JdbcBatchStore#checkpointEvery}): written for every n-th line, and before
 * the segment is read, changed, completed or released; a lease lost meanwhile is reported at the next write.
 */
@Timeout(60)
class JdbcCheckpointEveryTest {

    @TempDir
    Path tmp;

    private final JdbcConnectionPool db = TestDatabases.h2(false);

    @AfterEach
    void dispose() {
        db.dispose();
    }

    private JdbcBatchStore store(int every) throws Exception {
        JdbcBatchStore store = new JdbcBatchStore(db, "every", JdbcBatchStore.DEFAULT_TABLE_PREFIX,
                SyncPolicy.INTERVAL, MAPPER, tmp.resolve("work")).checkpointEvery(every);
        store.start();
        return store;
    }

    @Test
    void checkpointsAreWrittenEveryNthLineAndBeforeTheSegmentIsReadOrChanged() throws Exception {
        JdbcBatchStore a = store(10);
        JdbcBatchStore other = store(1);
        try {
            a.append("/v1/chat/completions", "m", List.of(rec("x"), rec("y")), ROOMY);
            String id = a.sealOpen(s -> true, SealReason.FLUSH).get(0);
            assertThat(a.tryClaim(id, "node-a", 60_000)).isTrue();
            SegmentInfo s = a.segment(id);
            SegmentLifecycle.restore(s, SegmentStatus.FINISHED);
            a.update(s);
            for (int i = 1; i <= 25; i++) {
                a.checkpoint(id, i, 0, 0);
            }
            assertThat(other.segment(id).getEmittedOutput()).as("what another node sees: the 20th line").isEqualTo(20);
            assertThat(a.segment(id).getEmittedOutput()).as("read by its node: written first").isEqualTo(25);
            assertThat(other.segment(id).getEmittedOutput()).isEqualTo(25);

            a.checkpoint(id, 26, 0, 0);
            a.close();
            assertThat(other.segment(id).getEmittedOutput()).as("written when the store closes").isEqualTo(26);

            // another node takes the segment over: the held-back checkpoint of the old holder is refused, and the
            // next checkpoint reports the lease lost
            JdbcBatchStore b = store(10);
            try {
                LeaseExpiry.expire(db, JdbcBatchStore.DEFAULT_TABLE_PREFIX, id);
                b.segments();
                assertThat(b.tryClaim(id, "node-b", 60_000)).isTrue();
                b.checkpoint(id, 27, 0, 0);
                LeaseExpiry.expire(db, JdbcBatchStore.DEFAULT_TABLE_PREFIX, id);
                other.segments();
                assertThat(other.tryClaim(id, "node-other", 60_000)).isTrue();
                b.segment(id);
                assertThat(other.segment(id).getEmittedOutput()).as("the old holder's write refused").isEqualTo(26);
                assertThatThrownBy(() -> b.checkpoint(id, 28, 0, 0)).isInstanceOf(LeaseLostException.class);
            } finally {
                b.close();
            }
        } finally {
            a.close();
            other.close();
        }
    }
}
