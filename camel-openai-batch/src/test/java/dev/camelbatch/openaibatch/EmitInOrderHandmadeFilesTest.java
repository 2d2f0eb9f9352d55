package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import org.apache.camel.builder.RouteBuilder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Output and error files made by hand (a finished segment pointing at files uploaded to the simulator): in request
 * order and in file order alike, a line of the error file is an error even when it carries no error object, and a
 * line of the output file that reports an HTTP error is one too; in request order the lines come in the order of the
 * requests, whichever file they are in.
 */
@Timeout(300)
class EmitInOrderHandmadeFilesTest extends FailureTestSupport {

    @ParameterizedTest
    @ValueSource(booleans = { true, false })
    void errorKindComesFromTheFileInBothModes(boolean inOrder) throws Exception {
        startSim(b -> b);
        configureComponent(context, KEY, null);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        addRoutesAndStart(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:handmade?model=" + MODEL);
                from("openai-batch:handmade?pollInterval=20&maxPollInterval=100&emitInOrder=" + inOrder)
                        .routeId("consumer").autoStartup(false)
                        .process(e -> order.add(e.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class)))
                        .process(recorder());
            }
        });
        String endpoint = "/v1/chat/completions";
        List<SpoolRecord> records = new ArrayList<>();
        for (int k = 0; k < 5; k++) {
            ObjectNode body = MAPPER.createObjectNode().put("model", MODEL);
            body.putArray("messages").addObject().put("role", "user").put("content", "Calculate: 1 + " + k + " = ");
            records.add(new SpoolRecord("h-" + k, RequestLines.serialize(MAPPER, "h-" + k, endpoint, body), null, 0));
        }
        // output file, shuffled: two results and an HTTP error reported in the output file
        String output = result("h-4", 200) + "\n" + result("h-0", 200) + "\n" + result("h-2", 503) + "\n";
        // error file: a normal error line, and an odd one without an error object and with status 200
        String errors = "{\"id\":\"batch_req_h-3\",\"custom_id\":\"h-3\",\"response\":null,\"error\":{\"code\":"
                        + "\"batch_expired\",\"message\":\"not run\"}}\n" + result("h-1", 200) + "\n";
        String outId;
        String errId;
        try (OpenAIBatchClient client = new OpenAIBatchClient(OpenAIClientConfig.builder().apiKey(KEY)
                .baseUrl(sim.baseUrl()).build())) {
            outId = client.uploadFile(tempFile(output), "handmade_output.jsonl", "batch", null).getId();
            errId = client.uploadFile(tempFile(errors), "handmade_errors.jsonl", "batch", null).getId();
        }
        OpenAIBatchEndpoint ep = context.getEndpoint("openai-batch:handmade", OpenAIBatchEndpoint.class);
        OpenAIBatchRuntime rt = ep.acquireRuntime();
        try {
            BatchStore store = rt.store();
            SegmentInfo s = store.createSealedSegment(endpoint, MODEL, 3, null, records);
            SegmentLifecycle.advance(s, SegmentStatus.FINISHED);
            s.setBatchId("batch_handmade");
            // completed at the last attempt: nothing is resubmitted
            s.setBatchStatus("completed");
            s.setOutputFileId(outId);
            s.setErrorFileId(errId);
            store.update(s);
        } finally {
            rt.release();
        }
        context.getRouteController().startRoute("consumer");

        await().atMost(Duration.ofSeconds(10)).until(() -> outcomes.total() >= 5);
        awaitIdle(context, Duration.ofSeconds(5));
        assertThat(outcomes.total()).isEqualTo(5);
        assertThat(outcomes.only("h-0").error()).isFalse();
        assertThat(outcomes.only("h-4").error()).isFalse();
        assertThat(outcomes.only("h-2").error()).as("HTTP 503 in the output file").isTrue();
        assertThat(outcomes.only("h-3").error()).isTrue();
        assertThat(outcomes.only("h-3").errorCode()).isEqualTo("batch_expired");
        assertThat(outcomes.only("h-1").error()).as("a line of the error file").isTrue();
        if (inOrder) {
            assertThat(order).containsExactly("h-0", "h-1", "h-2", "h-3", "h-4");
        } else {
            assertThat(order).containsExactly("h-4", "h-0", "h-2", "h-3", "h-1");
        }
    }

    private static String result(String customId, int status) throws Exception {
        ObjectNode line = MAPPER.createObjectNode().put("id", "batch_req_" + customId).put("custom_id", customId);
        ObjectNode response = line.putObject("response").put("status_code", status).put("request_id", "req_1");
        ObjectNode body = response.putObject("body");
        if (status >= 400) {
            body.putObject("error").put("message", "Service unavailable").put("type", "server_error");
        } else {
            body.put("id", "chatcmpl-1").put("object", "chat.completion").put("model", MODEL);
            body.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop").putObject("message")
                    .put("role", "assistant").put("content", "answer of " + customId);
        }
        line.putNull("error");
        return MAPPER.writeValueAsString(line);
    }
}
