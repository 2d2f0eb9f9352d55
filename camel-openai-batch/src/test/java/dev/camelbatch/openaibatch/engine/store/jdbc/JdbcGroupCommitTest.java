package dev.camelbatch.openaibatch.engine.store.jdbc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.store.BatchStoreContract;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.MAPPER;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.ROOMY;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.ids;
import static dev.camelbatch.openaibatch.engine.store.BatchStoreContract.rec;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A group commit of the JDBC store with duplicates in it: the duplicate is refused to the call that holds it (all of
 * that call's records, none stored), every other call of the group is stored, and the open segment's counts are the
 * rows it holds. On H2 (plain and in PostgreSQL mode: the look-up path) and on PostgreSQL (the insert statement
 * skips the duplicates; the one-statement path falls back to a transaction).
 */
@Timeout(120)
class JdbcGroupCommitTest {

    private static final String CHAT = "/v1/chat/completions";
    private static final AtomicInteger NAMES = new AtomicInteger();

    @TempDir
    Path tmp;

    private final List<Runnable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).run();
        }
    }

    private JdbcBatchStore store(String database) throws Exception {
        DataSource ds;
        String prefix;
        switch (database) {
            case "postgres" -> {
                JdbcConnectionPool pool = TestDatabases.postgres();
                prefix = TestDatabases.uniquePrefix("group");
                cleanup.add(pool::dispose);
                cleanup.add(() -> TestDatabases.dropTables(pool, prefix));
                ds = pool;
            }
            case "h2", "h2-postgres-mode" -> {
                JdbcConnectionPool pool = TestDatabases.h2(database.equals("h2-postgres-mode"));
                cleanup.add(pool::dispose);
                prefix = JdbcBatchStore.DEFAULT_TABLE_PREFIX;
                ds = pool;
            }
            default -> throw new IllegalArgumentException(database);
        }
        // one append lane: every call below joins the same group
        JdbcBatchStore store = new JdbcBatchStore(ds, "group-" + NAMES.incrementAndGet(), prefix, SyncPolicy.INTERVAL,
                MAPPER, tmp.resolve("work")).appendLanes(1);
        store.start();
        cleanup.add(store::close);
        return store;
    }

    private static JdbcSpool.GroupCall call(String... ids) {
        List<SpoolRecord> records = new ArrayList<>();
        for (String id : ids) {
            records.add(rec(id));
        }
        return new JdbcSpool.GroupCall(CHAT, "m", records, ROOMY);
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "h2-postgres-mode", "postgres" })
    void aDuplicateInAGroupFailsOnlyItsCall(String database) throws Exception {
        JdbcBatchStore store = store(database);
        store.append(CHAT, "m", List.of(rec("a")), ROOMY);

        List<Object> out = store.appendGroup(List.of(
                call("x"),
                call("a"), // spooled already
                call("y", "z"),
                call("w", "a"), // its second record is spooled already: none of it is stored
                call("x"), // repeats the first call of the group, which is stored
                call("q", "a"), // refused...
                call("q"), // ...so this one, repeating its id, is stored
                call("v")));

        assertThat(out.get(0)).isEqualTo(List.of());
        assertThat(out.get(1)).isInstanceOfSatisfying(DuplicateCustomIdException.class,
                e -> assertThat(e.getCustomId()).isEqualTo("a"));
        assertThat(out.get(2)).isEqualTo(List.of());
        assertThat(out.get(3)).isInstanceOfSatisfying(DuplicateCustomIdException.class, e -> {
            assertThat(e.getCustomId()).isEqualTo("a");
            assertThat(e.getMessage()).contains("line 2");
        });
        assertThat(out.get(4)).isInstanceOfSatisfying(DuplicateCustomIdException.class,
                e -> assertThat(e.getCustomId()).isEqualTo("x"));
        assertThat(out.get(5)).isInstanceOf(DuplicateCustomIdException.class);
        assertThat(out.get(6)).isEqualTo(List.of());
        assertThat(out.get(7)).isEqualTo(List.of());

        SegmentInfo open = BatchStoreContract.only(store, SegmentStatus.OPEN);
        assertThat(ids(store, open.getId())).containsExactlyInAnyOrder("a", "x", "y", "z", "q", "v");
        assertThat(ids(store, open.getId())).startsWith("a");
        assertThat(open.getRequestCount()).isEqualTo(6);
        assertThat(open.getTokens()).isEqualTo(18);
        assertThat(open.getBytes()).isEqualTo(BatchStoreContract.lines(store, open.getId()).stream()
                .mapToLong(l -> l.length() + 1).sum());
        assertThat(store.containsCustomId("w")).isFalse();

        // the next single appends go on in the same segment, numbered after the rows stored
        store.append(CHAT, "m", List.of(rec("after-1")), ROOMY);
        store.append(CHAT, "m", List.of(rec("after-2")), ROOMY);
        open = BatchStoreContract.only(store, SegmentStatus.OPEN);
        assertThat(open.getRequestCount()).isEqualTo(8);
        assertThat(ids(store, open.getId())).endsWith("after-1", "after-2");
        if (store.isPostgres()) {
            assertThat(store.fastAppends()).as("single appends into a known open segment: one statement each")
                    .isGreaterThanOrEqualTo(2);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgres" })
    void aDuplicateMeetingTheOneStatementPathIsRefusedAndTheOthersStored(String database) throws Exception {
        JdbcBatchStore store = store(database);
        store.append(CHAT, "m", List.of(rec("first")), ROOMY);
        store.append(CHAT, "m", List.of(rec("second")), ROOMY);
        // the lane knows its open segment now: this group goes to the one-statement path first (PostgreSQL), whose
        // unique violation sends it to a transaction that finds the duplicate
        List<Object> out = store.appendGroup(List.of(call("n1"), call("first"), call("n2", "n3")));
        assertThat(out.get(0)).isEqualTo(List.of());
        assertThat(out.get(1)).isInstanceOf(DuplicateCustomIdException.class);
        assertThat(out.get(2)).isEqualTo(List.of());
        SegmentInfo open = BatchStoreContract.only(store, SegmentStatus.OPEN);
        assertThat(ids(store, open.getId())).containsExactly("first", "second", "n1", "n2", "n3");
        assertThat(open.getRequestCount()).isEqualTo(5);
    }

    @ParameterizedTest
    @ValueSource(booleans = { false, true })
    void aCallThatTheDatabaseRefusesFailsAloneAndTheOthersAreStored(boolean knownSegment) throws Exception {
        // PostgreSQL refuses a NUL character in text; H2 takes it
        JdbcBatchStore store = store("postgres");
        if (knownSegment) {
            // the one-statement path first, which fails as a whole; then the calls one by one
            store.append(CHAT, "m", List.of(rec("first")), ROOMY);
        }
        List<Object> out = store.appendGroup(List.of(call("ok-1"), call("bad\u0000id"), call("ok-2", "ok-3")));
        assertThat(out.get(0)).isEqualTo(List.of());
        assertThat(out.get(1)).isInstanceOfSatisfying(java.io.IOException.class,
                e -> assertThat(e.getMessage()).contains("0x00"));
        assertThat(out.get(2)).isEqualTo(List.of());
        SegmentInfo open = BatchStoreContract.only(store, SegmentStatus.OPEN);
        assertThat(ids(store, open.getId())).containsExactlyInAnyOrderElementsOf(knownSegment
                ? List.of("first", "ok-1", "ok-2", "ok-3") : List.of("ok-1", "ok-2", "ok-3"));
        assertThat(open.getRequestCount()).isEqualTo(knownSegment ? 4 : 3);
        // and the store goes on
        store.append(CHAT, "m", List.of(rec("later")), ROOMY);
        assertThat(BatchStoreContract.only(store, SegmentStatus.OPEN).getRequestCount()).isEqualTo(knownSegment ? 5 : 4);
    }

    @ParameterizedTest
    @ValueSource(strings = { "h2", "postgres" })
    void aGroupThatFillsSegmentsSealsThemAtTheirLimits(String database) throws Exception {
        JdbcBatchStore store = store(database);
        SegmentLimits three = new SegmentLimits(3, SegmentLimits.DEFAULT_MAX_BYTES, 0, 0);
        store.append(CHAT, "m", List.of(rec("s1")), three);
        List<JdbcSpool.GroupCall> group = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            group.add(new JdbcSpool.GroupCall(CHAT, "m", List.of(rec("g" + i)), three));
        }
        group.add(new JdbcSpool.GroupCall(CHAT, "m", List.of(rec("s1")), three));
        List<Object> out = store.appendGroup(group);
        assertThat(out.get(7)).isInstanceOf(DuplicateCustomIdException.class);
        List<SegmentInfo> all = store.segments();
        // 1 + 7 requests at 3 a segment: two sealed at 3, two left open
        assertThat(all).extracting(SegmentInfo::getStatus).containsExactly(SegmentStatus.SEALED,
                SegmentStatus.SEALED, SegmentStatus.OPEN);
        assertThat(all).extracting(SegmentInfo::getRequestCount).containsExactly(3, 3, 2);
        assertThat(all.get(0).getSealReason()).isEqualTo("maxRequestsPerBatch");
        long sealedByCalls = out.stream().filter(o -> o instanceof List<?> l && !l.isEmpty()).count();
        assertThat(sealedByCalls).isEqualTo(2);
        for (SegmentInfo s : all) {
            assertThat(ids(store, s.getId())).hasSize(s.getRequestCount());
        }
    }
}
