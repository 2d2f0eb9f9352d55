package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.camelbatch.openaibatch.simulator.spec.OpenApiSchemas;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the client writes validates against the official OpenAPI schemas (via the simulator's test-jar helper
 * {@link OpenApiSchemas}): the createBatch body as sent on the wire, batch input lines, output lines and expiry
 * policies.
 */
@Timeout(300)
class SpecConformanceTest {

    private static JsonNode sentCreateBody(CreateBatchRequest request) throws IOException {
        try (StubServer stub = new StubServer()) {
            stub.on("POST /v1/batches", StubServer.json(200, StubServer.batchJson("batch_1", "validating")));
            try (OpenAIBatchClient c = new OpenAIBatchClient(OpenAIClientConfig.builder().baseUrl(stub.baseUrl())
                    .apiKey("sk-test").responseTimeout(Duration.ofSeconds(5)).build())) {
                c.createBatch(request);
            }
            return OpenAIJson.mapper().readTree(stub.requests().get(0).body);
        }
    }

    @Test
    void createBatchBodyAsSentValidates() throws IOException {
        JsonNode minimal = sentCreateBody(CreateBatchRequest.builder().inputFileId("file-abc")
                .endpoint("/v1/chat/completions").build());
        assertThat(OpenApiSchemas.validateStrict("CreateBatchRequest", minimal)).isEmpty();

        JsonNode full = sentCreateBody(CreateBatchRequest.builder().inputFileId("file-abc").endpoint("/v1/responses")
                .putMetadata("route", "r1").putMetadata("exchange", "ID-1").outputExpiresAfterSeconds(86_400L).build());
        assertThat(full.has("metadata")).isTrue();
        assertThat(OpenApiSchemas.validateStrict("CreateBatchRequest", full)).isEmpty();
    }

    @Test
    void theValidatorDoesRejectABadBody() {
        ObjectNode bad = OpenAIJson.mapper().valueToTree(CreateBatchRequest.builder().inputFileId("file-abc")
                .endpoint("/v1/chat/completions").completionWindow("48h").build());
        bad.remove("input_file_id");
        List<String> messages = OpenApiSchemas.validateStrict("CreateBatchRequest", bad);
        assertThat(messages).isNotEmpty();
        assertThat(String.join("\n", messages)).contains("input_file_id").contains("completion_window");
    }

    @Test
    void batchRequestLinesValidate() {
        ObjectNode body = OpenAIJson.mapper().createObjectNode().put("model", "gpt-4o-mini");
        body.putArray("messages").addObject().put("role", "user").put("content", "What is 2+2?");
        BatchRequestLine line = BatchRequestLine.of("request-1", "/v1/chat/completions", body);
        assertThat(OpenApiSchemas.validate("BatchRequestInput", line.toJsonLine())).isEmpty();
        assertThat(OpenApiSchemas.validateStrict("BatchRequestInput", OpenAIJson.mapper().valueToTree(line)))
                .isEmpty();
    }

    @Test
    void batchOutputLinesValidate() {
        BatchOutputLine ok = new BatchOutputLine();
        ok.setId("batch_req_1");
        ok.setCustomId("request-1");
        ok.setResponse(new BatchOutputLine.Response(200, "req_1",
                OpenAIJson.mapper().createObjectNode().put("object", "chat.completion")));
        assertThat(OpenApiSchemas.validateStrict("BatchRequestOutput", OpenAIJson.mapper().valueToTree(ok))).isEmpty();

        BatchOutputLine failed = new BatchOutputLine();
        failed.setId("batch_req_2");
        failed.setCustomId("request-2");
        failed.setError(new BatchOutputLine.Error("batch_expired", "not executed"));
        assertThat(OpenApiSchemas.validateStrict("BatchRequestOutput", OpenAIJson.mapper().valueToTree(failed))).isEmpty();
    }

    @Test
    void expiryPoliciesValidate() {
        JsonNode policy = OpenAIJson.mapper().valueToTree(FileExpirationAfter.createdAtPlus(3600));
        assertThat(OpenApiSchemas.validateStrict("BatchFileExpirationAfter", policy)).isEmpty();
        assertThat(OpenApiSchemas.validateStrict("FileExpirationAfter", policy)).isEmpty();
    }

    @Test
    void dtosReSerializeToValidResponses() throws IOException {
        Batch b = OpenAIJson.mapper().readValue(StubServer.batchJson("batch_1", "in_progress"), Batch.class);
        assertThat(OpenApiSchemas.validate("Batch", OpenAIJson.mapper().valueToTree(b))).isEmpty();
        OpenAIFile f = OpenAIJson.mapper().readValue(StubServer.fileJson("file-1", "a.jsonl", 3), OpenAIFile.class);
        assertThat(OpenApiSchemas.validate("OpenAIFile", OpenAIJson.mapper().valueToTree(f))).isEmpty();
    }
}
