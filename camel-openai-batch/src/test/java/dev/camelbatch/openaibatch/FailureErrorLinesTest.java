package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Failed lines in the error file: 5xx and request_timeout lines are resubmitted (only those lines) up to
 * maxAttempts and then come out as errors; 400 lines come out as errors at once with status code, error code and
 * message. With errorHandling=headers (default) they are normal exchanges with error headers; with
 * errorHandling=exception they go to the route's error handler (here a dead letter channel) and not down the route.
 */
@Timeout(300)
class FailureErrorLinesTest extends FailureTestSupport {

    private static final Set<String> RETRYABLE = Set.of("el-2", "el-5");

    private List<String> sendMixed() {
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < 8; k++) {
            String id = "el-" + k;
            String prompt = switch (k) {
                case 2 -> "Please FAIL_500 now";
                case 5 -> "Please FAIL_TIMEOUT now";
                case 6 -> "Please FAIL_400 now";
                default -> "Calculate: 1 + " + k + " = ";
            };
            send(id, prompt, k == 7);
            ids.add(id);
        }
        return ids;
    }

    @Test
    void retryableLinesResubmittedAloneThenErrorsAnd400AtOnce() throws Exception {
        startSim(b -> b);
        configureComponent(context, KEY, null);
        // keep the remote files, to read what each batch was given
        addRoutesAndStart(routes("lines", "maxRequestsPerBatch=8", "maxAttempts=3&deleteFiles=false"));

        List<String> ids = sendMixed();

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 8);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);

        // three batches: all 8, then exactly the two retryable ones as attempt 2, then again as attempt 3
        List<String> batches = sim.batchIds();
        assertThat(batches).hasSize(3);
        assertThat(inputCustomIds(batches.get(0))).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(inputCustomIds(batches.get(1))).containsExactlyInAnyOrderElementsOf(RETRYABLE);
        assertThat(inputCustomIds(batches.get(2))).containsExactlyInAnyOrderElementsOf(RETRYABLE);
        assertThat(sim.stats().createdBatchMetadata()).extracting(m -> m.get("camel_openai_batch_attempt"))
                .containsExactly("1.0", "2.0", "3.0");

        Outcome fail500 = outcomes.only("el-2");
        assertThat(fail500.error()).isTrue();
        assertThat(fail500.attempt()).isEqualTo(3);
        assertThat(fail500.statusCode()).isEqualTo(500);
        assertThat(fail500.errorCode()).isEqualTo("server_error");
        assertThat(fail500.errorMessage()).contains("FAIL_500");

        Outcome timeout = outcomes.only("el-5");
        assertThat(timeout.error()).isTrue();
        assertThat(timeout.attempt()).isEqualTo(3);
        assertThat(timeout.statusCode()).isNull();
        assertThat(timeout.errorCode()).isEqualTo("request_timeout");
        assertThat(timeout.errorMessage()).contains("timed out");

        Outcome fail400 = outcomes.only("el-6");
        assertThat(fail400.error()).isTrue();
        assertThat(fail400.attempt()).isEqualTo(1);
        assertThat(fail400.statusCode()).isEqualTo(400);
        assertThat(fail400.errorCode()).isEqualTo("invalid_request_error");
        assertThat(fail400.errorMessage()).contains("FAIL_400");

        for (String id : List.of("el-0", "el-1", "el-3", "el-4", "el-7")) {
            Outcome o = outcomes.only(id);
            assertThat(o.error()).isFalse();
            assertThat(o.attempt()).isEqualTo(1);
            assertThat(o.statusCode()).isEqualTo(200);
            assertThat(o.body()).isEqualTo(answer(id));
        }
        assertNoSegmentAttemptSubmittedTwice();
    }

    @Test
    void exceptionModeSendsErrorLinesToTheDeadLetterChannel() throws Exception {
        startSim(b -> b);
        configureComponent(context, KEY, null);
        addRoutesAndStart(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:linesx?model=" + MODEL + "&maxRequestsPerBatch=8");
                from("openai-batch:linesx?pollInterval=20&maxPollInterval=100&maxAttempts=2&errorHandling=exception")
                        .routeId("consumer")
                        .errorHandler(deadLetterChannel("mock:dead"))
                        .process(recorder())
                        .to("mock:out");
            }
        });
        MockEndpoint out = getMockEndpoint("mock:out");
        MockEndpoint dead = getMockEndpoint("mock:dead");

        List<String> ids = sendMixed();

        await().atMost(Duration.ofSeconds(20)).until(() -> out.getReceivedCounter() + dead.getReceivedCounter() >= 8);
        // every segment done: every line has been delivered, to the route or to the dead letter channel
        awaitIdle(context, Duration.ofSeconds(10));
        assertThat(out.getReceivedCounter()).isEqualTo(5);
        assertThat(dead.getReceivedCounter()).isEqualTo(3);
        // the normal route never saw an error line
        assertThat(outcomes.errors()).isEmpty();
        assertThat(outcomes.results()).hasSize(5);
        List<String> deadIds = new ArrayList<>();
        for (Exchange e : dead.getReceivedExchanges()) {
            String id = e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
            deadIds.add(id);
            Exception caught = e.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
            assertThat(caught).isInstanceOf(OpenAIBatchRequestFailedException.class);
            OpenAIBatchRequestFailedException f = (OpenAIBatchRequestFailedException) caught;
            assertThat(f.getCustomId()).isEqualTo(id);
            assertThat(e.getMessage().getHeader(OpenAIBatchConstants.IS_ERROR)).isEqualTo(true);
            switch (id) {
                case "el-6" -> {
                    assertThat(f.getStatusCode()).isEqualTo(400);
                    assertThat(f.getErrorCode()).isEqualTo("invalid_request_error");
                    assertThat(e.getMessage().getHeader(OpenAIBatchConstants.ATTEMPT)).isEqualTo(1);
                }
                case "el-2" -> {
                    assertThat(f.getStatusCode()).isEqualTo(500);
                    assertThat(e.getMessage().getHeader(OpenAIBatchConstants.ATTEMPT)).isEqualTo(2);
                }
                case "el-5" -> {
                    assertThat(f.getErrorCode()).isEqualTo("request_timeout");
                    assertThat(e.getMessage().getHeader(OpenAIBatchConstants.ATTEMPT)).isEqualTo(2);
                }
                default -> throw new AssertionError("unexpected dead letter " + id);
            }
        }
        assertThat(deadIds).containsExactlyInAnyOrder("el-2", "el-5", "el-6");
        assertThat(sim.stats().batchesCreated()).isEqualTo(2);
        assertNoFilesLeft();
    }
}
