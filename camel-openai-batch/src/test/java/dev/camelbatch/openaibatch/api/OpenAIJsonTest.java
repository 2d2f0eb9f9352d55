package dev.camelbatch.openaibatch.api;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The DTOs against the spec's examples and against sloppy input. */
@Timeout(120)
class OpenAIJsonTest {

    /** The example of components.schemas.Batch, plus a field this version does not know. */
    private static final String BATCH_EXAMPLE = "{\n"
            + "  \"id\": \"batch_abc123\", \"object\": \"batch\", \"endpoint\": \"/v1/completions\",\n"
            + "  \"model\": \"gpt-5-2025-08-07\", \"errors\": null, \"input_file_id\": \"file-abc123\",\n"
            + "  \"completion_window\": \"24h\", \"status\": \"completed\", \"output_file_id\": \"file-cvaTdG\",\n"
            + "  \"error_file_id\": \"file-HOWS94\", \"created_at\": 1711471533, \"in_progress_at\": 1711471538,\n"
            + "  \"expires_at\": 1711557933, \"finalizing_at\": 1711493133, \"completed_at\": 1711493163,\n"
            + "  \"failed_at\": null, \"expired_at\": null, \"cancelling_at\": null, \"cancelled_at\": null,\n"
            + "  \"request_counts\": {\"total\": 100, \"completed\": 95, \"failed\": 5},\n"
            + "  \"usage\": {\"input_tokens\": 1500, \"input_tokens_details\": {\"cached_tokens\": 1024},\n"
            + "    \"output_tokens\": 500, \"output_tokens_details\": {\"reasoning_tokens\": 300}, \"total_tokens\": 2000},\n"
            + "  \"metadata\": {\"customer_id\": \"user_123456789\", \"batch_description\": \"Nightly eval job\"},\n"
            + "  \"some_future_field\": {\"x\": [1, 2]}\n"
            + "}";

    @Test
    void parsesTheSpecBatchExample() throws Exception {
        Batch b = OpenAIJson.mapper().readValue(BATCH_EXAMPLE, Batch.class);
        assertThat(b.getId()).isEqualTo("batch_abc123");
        assertThat(b.getObject()).isEqualTo("batch");
        assertThat(b.getModel()).isEqualTo("gpt-5-2025-08-07");
        assertThat(b.getErrors()).isNull();
        assertThat(b.getStatus()).isEqualTo("completed");
        assertThat(b.batchStatus()).isEqualTo(BatchStatus.COMPLETED);
        assertThat(b.isTerminal()).isTrue();
        assertThat(b.getOutputFileId()).isEqualTo("file-cvaTdG");
        assertThat(b.getErrorFileId()).isEqualTo("file-HOWS94");
        assertThat(b.getCreatedAt()).isEqualTo(1711471533L);
        assertThat(b.getInProgressAt()).isEqualTo(1711471538L);
        assertThat(b.getExpiresAt()).isEqualTo(1711557933L);
        assertThat(b.getFinalizingAt()).isEqualTo(1711493133L);
        assertThat(b.getCompletedAt()).isEqualTo(1711493163L);
        assertThat(b.getFailedAt()).isNull();
        assertThat(b.getExpiredAt()).isNull();
        assertThat(b.getCancellingAt()).isNull();
        assertThat(b.getCancelledAt()).isNull();
        assertThat(b.getRequestCounts().getTotal()).isEqualTo(100);
        assertThat(b.getRequestCounts().getCompleted()).isEqualTo(95);
        assertThat(b.getRequestCounts().getFailed()).isEqualTo(5);
        assertThat(b.getUsage().getInputTokens()).isEqualTo(1500L);
        assertThat(b.getUsage().getInputTokensDetails().getCachedTokens()).isEqualTo(1024L);
        assertThat(b.getUsage().getOutputTokens()).isEqualTo(500L);
        assertThat(b.getUsage().getOutputTokensDetails().getReasoningTokens()).isEqualTo(300L);
        assertThat(b.getUsage().getTotalTokens()).isEqualTo(2000L);
        assertThat(b.getMetadata()).containsEntry("customer_id", "user_123456789");
        assertThat(b.getAdditionalProperties()).containsOnlyKeys("some_future_field");

        // unknown fields survive a round trip, and no helper leaks into the JSON
        JsonNode back = OpenAIJson.mapper().valueToTree(b);
        assertThat(back.get("some_future_field").get("x").size()).isEqualTo(2);
        assertThat(back.has("terminal")).isFalse();
        assertThat(back.has("additionalProperties")).isFalse();
        assertThat(back.get("input_file_id").asText()).isEqualTo("file-abc123");
        assertThat(back.has("inputFileId")).isFalse();
    }

    @Test
    void toleratesMissingFieldsNullsAndUnknownStatus() throws Exception {
        Batch b = OpenAIJson.mapper().readValue("{\"id\":\"b\",\"status\":\"paused_by_aliens\",\"request_counts\":null,"
                + "\"metadata\":null,\"created_at\":null}", Batch.class);
        assertThat(b.getStatus()).isEqualTo("paused_by_aliens");
        assertThat(b.batchStatus()).isNull();
        assertThat(b.isTerminal()).isFalse();
        assertThat(b.getRequestCounts()).isNull();
        assertThat(OpenAIJson.mapper().readValue("{}", Batch.class).getId()).isNull();
    }

    @Test
    void parsesBatchErrors() throws Exception {
        Batch b = OpenAIJson.mapper().readValue("{\"id\":\"b\",\"status\":\"failed\",\"errors\":{\"object\":\"list\","
                + "\"data\":[{\"code\":\"invalid_json_line\",\"message\":\"bad\",\"param\":null,\"line\":3},"
                + "{\"code\":\"x\"}]}}", Batch.class);
        assertThat(b.getErrors().getObject()).isEqualTo("list");
        assertThat(b.getErrors().getData()).hasSize(2);
        assertThat(b.getErrors().getData().get(0).getLine()).isEqualTo(3);
        assertThat(b.getErrors().getData().get(0).getCode()).isEqualTo("invalid_json_line");
        assertThat(b.getErrors().getData().get(1).getLine()).isNull();
    }

    @Test
    void batchStatusEnum() {
        assertThat(BatchStatus.values()).hasSize(8);
        assertThat(BatchStatus.fromValue("in_progress")).isEqualTo(BatchStatus.IN_PROGRESS);
        assertThat(BatchStatus.fromValue("CANCELLING")).isEqualTo(BatchStatus.CANCELLING);
        assertThat(BatchStatus.fromValue("nope")).isNull();
        assertThat(BatchStatus.fromValue(null)).isNull();
        assertThat(BatchStatus.VALIDATING.isTerminal()).isFalse();
        assertThat(BatchStatus.IN_PROGRESS.isTerminal()).isFalse();
        assertThat(BatchStatus.FINALIZING.isTerminal()).isFalse();
        assertThat(BatchStatus.CANCELLING.isTerminal()).isFalse();
        assertThat(BatchStatus.FAILED.isTerminal()).isTrue();
        assertThat(BatchStatus.COMPLETED.isTerminal()).isTrue();
        assertThat(BatchStatus.EXPIRED.isTerminal()).isTrue();
        assertThat(BatchStatus.CANCELLED.isTerminal()).isTrue();
        assertThat(BatchStatus.FINALIZING.value()).isEqualTo("finalizing");
    }

    @Test
    void parsesTheFileObjectAndLists() throws Exception {
        OpenAIFile f = OpenAIJson.mapper().readValue("{\"id\":\"file-abc123\",\"object\":\"file\",\"bytes\":120000,"
                + "\"created_at\":1677610602,\"expires_at\":1680202602,\"filename\":\"salesOverview.pdf\","
                + "\"purpose\":\"assistants\",\"status\":\"processed\",\"status_details\":null,\"new\":1}",
                OpenAIFile.class);
        assertThat(f.getBytes()).isEqualTo(120000L);
        assertThat(f.getExpiresAt()).isEqualTo(1680202602L);
        assertThat(f.getFilename()).isEqualTo("salesOverview.pdf");
        assertThat(f.getStatus()).isEqualTo("processed");
        assertThat(f.getAdditionalProperties()).containsEntry("new", 1);

        FileList list = OpenAIJson.mapper().readValue("{\"object\":\"list\",\"data\":[{\"id\":\"file-1\"}],"
                + "\"first_id\":\"file-1\",\"last_id\":\"file-1\",\"has_more\":false}", FileList.class);
        assertThat(list.getData()).hasSize(1);
        assertThat(list.hasMore()).isFalse();
        assertThat(list.nextCursor()).isEqualTo("file-1");

        BatchList empty = OpenAIJson.mapper().readValue("{\"object\":\"list\"}", BatchList.class);
        assertThat(empty.getData()).isEmpty();
        assertThat(empty.hasMore()).isFalse();
        assertThat(empty.nextCursor()).isNull();

        FileDeleted d = OpenAIJson.mapper().readValue("{\"id\":\"file-1\",\"object\":\"file\",\"deleted\":true}",
                FileDeleted.class);
        assertThat(d.isDeleted()).isTrue();
        assertThat(OpenAIJson.mapper().readValue("{}", FileDeleted.class).isDeleted()).isFalse();
    }

    @Test
    void writesAndReadsRequestLines() {
        ObjectNode body = OpenAIJson.mapper().createObjectNode();
        body.put("model", "gpt-4o-mini");
        body.putArray("messages").addObject().put("role", "user").put("content", "What is 2+2?");
        String line = BatchRequestLine.of("request-1", "/v1/chat/completions", body).toJsonLine();
        assertThat(line).isEqualTo("{\"custom_id\":\"request-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                + "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+2?\"}]}}");
        assertThat(line).doesNotContain("\n");
        BatchRequestLine back = BatchRequestLine.parse(line);
        assertThat(back.getCustomId()).isEqualTo("request-1");
        assertThat(back.getBody().get("messages").get(0).get("content").asText()).isEqualTo("What is 2+2?");
    }

    @Test
    void parsesTheSpecOutputLineExamples() {
        BatchOutputLine ok = BatchOutputLine.parse("{\"id\": \"batch_req_wnaDys\", \"custom_id\": \"request-2\", "
                + "\"response\": {\"status_code\": 200, \"request_id\": \"req_c187b3\", \"body\": {\"id\": "
                + "\"chatcmpl-9758Iw\", \"object\": \"chat.completion\", \"created\": 1711475054, \"model\": "
                + "\"gpt-4o-mini\", \"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": "
                + "\"2 + 2 equals 4.\"}, \"finish_reason\": \"stop\"}], \"usage\": {\"prompt_tokens\": 24, "
                + "\"completion_tokens\": 15, \"total_tokens\": 39}, \"system_fingerprint\": null}}, \"error\": null}");
        assertThat(ok.getCustomId()).isEqualTo("request-2");
        assertThat(ok.getResponse().getStatusCode()).isEqualTo(200);
        assertThat(ok.getResponse().getRequestId()).isEqualTo("req_c187b3");
        assertThat(ok.getResponse().getBody().at("/choices/0/message/content").asText()).isEqualTo("2 + 2 equals 4.");
        assertThat(ok.getError()).isNull();
        assertThat(ok.isSuccess()).isTrue();

        BatchOutputLine failed = BatchOutputLine.parse("{\"id\":\"batch_req_1\",\"custom_id\":\"r\",\"response\":null,"
                + "\"error\":{\"code\":\"batch_expired\",\"message\":\"This request could not be executed\"}}");
        assertThat(failed.isSuccess()).isFalse();
        assertThat(failed.getError().getCode()).isEqualTo("batch_expired");

        BatchOutputLine http400 = BatchOutputLine.parse("{\"id\":\"x\",\"custom_id\":\"r\",\"response\":"
                + "{\"status_code\":400,\"request_id\":\"q\",\"body\":{\"error\":{\"message\":\"bad\"}}},\"error\":null}");
        assertThat(http400.isSuccess()).isFalse();

        // nullable fields are written even when null, as the API does
        assertThat(failed.toJsonLine()).contains("\"response\":null");
        assertThat(ok.toJsonLine()).contains("\"error\":null");
    }

    @Test
    void unparseableLineFailsWithoutEchoingIt() {
        assertThatThrownBy(() -> BatchOutputLine.parse("{\"id\": \"secret-payload\", broken"))
                .isInstanceOf(java.io.UncheckedIOException.class)
                .satisfies(t -> assertThat(String.valueOf(t.getCause().getMessage())).doesNotContain("secret-payload"));
    }

    @Test
    void createBatchRequestSerialization() throws Exception {
        CreateBatchRequest r = CreateBatchRequest.builder().inputFileId("file-1").endpoint("/v1/chat/completions")
                .metadata(Map.of("a", "b")).outputExpiresAfterSeconds(3600L).build();
        JsonNode n = OpenAIJson.mapper().valueToTree(r);
        assertThat(n.get("completion_window").asText()).isEqualTo("24h");
        assertThat(n.get("output_expires_after").get("anchor").asText()).isEqualTo("created_at");
        CreateBatchRequest back = OpenAIJson.mapper().treeToValue(n, CreateBatchRequest.class);
        assertThat(back.getMetadata()).containsEntry("a", "b");
        assertThat(back.getOutputExpiresAfter().getSeconds()).isEqualTo(3600L);

        assertThatThrownBy(() -> CreateBatchRequest.builder().endpoint("/v1/chat/completions").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("input_file_id");
        assertThatThrownBy(() -> CreateBatchRequest.builder().inputFileId("f").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpoint");
        assertThatThrownBy(() -> CreateBatchRequest.builder().inputFileId("f").endpoint("/v1/embeddings")
                .putMetadata("k", null).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'k'");
    }
}
