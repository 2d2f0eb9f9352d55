package dev.camelbatch.openaibatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import dev.camelbatch.openaibatch.api.OpenAIFile;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.store.SpoolRecord;
import dev.camelbatch.openaibatch.simulator.Fault;
import org.apache.camel.builder.RouteBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Broken downloads and bad output: a truncated download is retried and every line comes out once; a line that does
 * not parse comes out as an error exchange carrying the raw text, and a request that no line answers comes out as an
 * error under its own custom id.
 */
@Timeout(300)
class FailureBrokenDownloadTest extends FailureTestSupport {

    @Test
    void truncatedDownloadsAreRetriedAndEveryLineComesOutOnce() throws Exception {
        startSim(b -> b);
        configureComponent(context, KEY, null);
        addRoutesAndStart(routes("truncated", "maxRequestsPerBatch=12", ""));
        sim.faults().nextCalls("GET /v1/files/*/content", 2, Fault.TRUNCATED_DOWNLOAD);

        List<String> ids = new ArrayList<>();
        for (int k = 0; k < 12; k++) {
            ids.add("tr-" + k);
            send("tr-" + k, k % 4 == 3 ? "FAIL_400 " + k : "Calculate: 1 + " + k + " = ", k == 11);
        }

        await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.total() >= 12);
        awaitIdle(context, Duration.ofSeconds(10));
        outcomes.assertExactlyOnce(ids);
        assertThat(outcomes.results()).hasSize(9).allSatisfy(o -> assertThat(o.body()).isEqualTo(answer(o
                .customId())));
        assertThat(outcomes.errors()).hasSize(3).allSatisfy(o -> assertThat(o.statusCode()).isEqualTo(400));
        assertThat(sim.faults().injected().get(Fault.TRUNCATED_DOWNLOAD)).isEqualTo(2);
        assertThat(engine().stats().downloadRetries.get()).isEqualTo(2);
        assertThat(sim.stats().calls("GET /v1/files/{id}/content")).isEqualTo(4); // 2 broken + output + errors
        assertNoFilesLeft();
    }

    /**
     * The simulator always writes valid JSON, so the bad output is hand-made: a file uploaded to the simulator and
     * a finished segment in the store that points at it as its output file; then the consumer starts and emits it.
     */
    @Test
    void aLineThatDoesNotParseComesOutAsAnErrorWithTheRawText() throws Exception {
        startSim(b -> b);
        configureComponent(context, KEY, null);
        addRoutesAndStart(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:badout?model=" + MODEL);
                from("openai-batch:badout?pollInterval=20&maxPollInterval=100").routeId("consumer").autoStartup(false)
                        .process(recorder());
            }
        });
        String endpoint = "/v1/chat/completions";
        List<SpoolRecord> records = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            ObjectNode body = MAPPER.createObjectNode().put("model", MODEL);
            body.putArray("messages").addObject().put("role", "user").put("content", "Calculate: 1 + " + k + " = ");
            records.add(new SpoolRecord("u-" + k, RequestLines.serialize(MAPPER, "u-" + k, endpoint, body), null, 0));
        }
        String cut = "{\"id\":\"batch_req_2\",\"custom_id\":\"u-2\",\"response\":{\"status_code\":200,\"body\":{\"ch";
        String garbage = "<<garbage for u-3>>";
        String output = resultLine("u-0", "1 + 0 = 1") + "\n" + resultLine("u-1", "1 + 1 = 2") + "\n" + cut + "\n"
                        + garbage + "\n";
        OpenAIFile file;
        try (OpenAIBatchClient client = new OpenAIBatchClient(OpenAIClientConfig.builder().apiKey(KEY)
                .baseUrl(sim.baseUrl()).build())) {
            file = client.uploadFile(tempFile(output), "handmade_output.jsonl", "batch", null);
        }
        OpenAIBatchEndpoint ep = context.getEndpoint("openai-batch:badout", OpenAIBatchEndpoint.class);
        OpenAIBatchRuntime rt = ep.acquireRuntime();
        try {
            BatchStore store = rt.store();
            SegmentInfo s = store.createSealedSegment(endpoint, MODEL, 1, null, records);
            SegmentLifecycle.advance(s, SegmentStatus.FINISHED);
            s.setBatchId("batch_handmade");
            s.setBatchStatus("completed");
            s.setOutputFileId(file.getId());
            store.update(s);
        } finally {
            rt.release();
        }
        context.getRouteController().startRoute("consumer");

        await().atMost(Duration.ofSeconds(10)).until(() -> outcomes.total() >= 5);
        awaitIdle(context, Duration.ofSeconds(10));
        assertThat(outcomes.total()).isEqualTo(5);
        assertThat(outcomes.only("u-0").body()).isEqualTo("1 + 0 = 1");
        assertThat(outcomes.only("u-1").body()).isEqualTo("1 + 1 = 2");
        Outcome cutLine = outcomes.only("u-2");
        assertThat(cutLine.error()).isTrue();
        assertThat(cutLine.errorCode()).isEqualTo("unparsable_output_line");
        assertThat(cutLine.errorMessage()).contains("not valid JSON");
        assertThat(cutLine.body()).isEqualTo(cut);
        Outcome noId = outcomes.only("null");
        assertThat(noId.error()).isTrue();
        assertThat(noId.errorCode()).isEqualTo("unparsable_output_line");
        assertThat(noId.body()).isEqualTo(garbage);
        // the request whose line could not be told apart is reported too, under its own id: never dropped
        Outcome missing = outcomes.only("u-3");
        assertThat(missing.error()).isTrue();
        assertThat(missing.errorCode()).isEqualTo("missing_output_line");
        assertNoFilesLeft();
    }

    private static String resultLine(String customId, String content) throws Exception {
        ObjectNode line = MAPPER.createObjectNode().put("id", "batch_req_" + customId).put("custom_id", customId);
        ObjectNode response = line.putObject("response").put("status_code", 200).put("request_id", "req_1");
        ObjectNode body = response.putObject("body").put("id", "chatcmpl-1").put("object", "chat.completion")
                .put("model", MODEL);
        body.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop").putObject("message")
                .put("role", "assistant").put("content", content);
        line.putNull("error");
        return MAPPER.writeValueAsString(line);
    }
}
