package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Every request of a batch fails: the batch completes with no output file and only the error file is read. */
@Timeout(300)
class FailureAllLinesFailedTest extends FailureTestSupport {

    @Test
    void completedWithoutOutputFileOnlyTheErrorFileIsRead() throws Exception {
        startSim(b -> b);
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("allfail", "maxRequestsPerBatch=6", "batchEvents=true"));

        List<String> ids = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            ids.add("af-" + k);
            send("af-" + k, "Request " + k + " with FAIL_400", k == 5);
        }

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 6);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.errors()).hasSize(6).allSatisfy(o -> {
            assertThat(o.statusCode()).isEqualTo(400);
            assertThat(o.errorCode()).isEqualTo("invalid_request_error");
            assertThat(o.errorMessage()).contains("FAIL_400");
        });
        String batchId = sim.batchIds().get(0);
        assertThat(status(batchId)).isEqualTo("completed");
        assertThat(sim.batch(batchId).get("output_file_id").isNull()).isTrue();
        assertThat(sim.batch(batchId).get("error_file_id").isTextual()).isTrue();
        assertThat(sim.stats().calls("GET /v1/files/{id}/content")).as("downloads").isEqualTo(1);
        assertThat(events("COMPLETED")).hasSize(1);
        assertNoFilesLeft();
    }
}
