package dev.camelbatch.openaibatch;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static dev.camelbatch.openaibatch.OpenAIBatchConstants.BATCH_ID;
import static dev.camelbatch.openaibatch.OpenAIBatchConstants.OPERATION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The explicit operations on the simulator: submit (untracked), retrieve, wait, cancel, list, results, errors. */
@Timeout(300)
class OperationBatchTest extends OperationsSupport {

    private static final String OPS = "openai-batch:ops?track=false";

    private Batch submitOne(String prefix, int n) {
        Exchange ex = call(OPS + "&operation=submit", jsonl(prefix, n, "gpt-4o-mini"), null);
        assertThat(ex.getException()).isNull();
        return ex.getMessage().getBody(Batch.class);
    }

    private Exchange waitFor(String batchId) {
        Exchange ex = call(OPS + "&operation=wait&waitTimeout=20000", null, Map.of(BATCH_ID, batchId));
        assertThat(ex.getException()).isNull();
        return ex;
    }

    @Test
    void submitSplitsByModelAndLimitsAndCreatesTheBatchesAsTheyAre() {
        String doc = jsonl("mini", 5, "gpt-4o-mini") + jsonl("nano", 3, "gpt-4.1-nano");
        Exchange ex = call(OPS + "&operation=submit&maxRequestsPerBatch=3", doc, null);
        assertThat(ex.getException()).isNull();
        List<?> batches = ex.getMessage().getBody(List.class);
        assertThat(batches).hasSize(3).allMatch(b -> b instanceof Batch);
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.BATCH_COUNT)).isEqualTo(3);
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.REQUEST_COUNT)).isEqualTo(8);
        assertThat(ex.getMessage().getHeader(BATCH_ID)).isEqualTo(((Batch) batches.get(0)).getId());
        int lines = 0;
        for (Object o : batches) {
            Batch b = (Batch) o;
            assertThat(b.getMetadata()).containsEntry("camel_openai_batch_name", "ops");
            String content = sim.fileContent(b.getInputFileId());
            String[] ls = content.split("\n");
            lines += ls.length;
            // one model per batch, at most 3 lines, the custom ids as sent
            assertThat(ls.length).isLessThanOrEqualTo(3);
            String model = ls[0].contains("gpt-4o-mini") ? "gpt-4o-mini" : "gpt-4.1-nano";
            assertThat(ls).allMatch(l -> l.contains("\"model\":\"" + model + "\""));
            assertThat(ls).allMatch(l -> l.startsWith("{\"custom_id\":\"" + (model.equals("gpt-4o-mini") ? "mini-"
                    : "nano-")));
        }
        assertThat(lines).isEqualTo(8);
    }

    @Test
    void submitTakesAListOfBodiesAndRequestLines() {
        List<Object> items = List.of(
                Map.of("model", "gpt-4o-mini", "messages", List.of(Map.of("role", "user", "content", "hi"))),
                "{\"custom_id\":\"line-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"Calculate: 1 + 1 = \"}]}}");
        Exchange ex = call(OPS + "&operation=submit&model=gpt-4o-mini", items, null);
        assertThat(ex.getException()).isNull();
        Batch b = ex.getMessage().getBody(Batch.class);
        String content = sim.fileContent(b.getInputFileId());
        assertThat(content.split("\n")).hasSize(2);
        assertThat(content).contains("\"custom_id\":\"line-1\"").contains("\"model\":\"gpt-4o-mini\"");
    }

    @Test
    void retrieveAndWaitGiveTheBatchWithCountsUsageAndCost() {
        Batch b = submitOne("wait", 4);
        Exchange ex = waitFor(b.getId());
        Batch done = ex.getMessage().getBody(Batch.class);
        assertThat(done.getStatus()).isEqualTo("completed");
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.TIMED_OUT)).isEqualTo(false);
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.BATCH_STATUS)).isEqualTo("completed");
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.COMPLETED_COUNT)).isEqualTo(4);
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.TOTAL_COUNT)).isEqualTo(4);
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.PROGRESS_PERCENT)).isEqualTo(100.0);
        assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.OUTPUT_FILE_ID)).isEqualTo(done.getOutputFileId());

        Exchange r = call(OPS + "&operation=retrieve", null, Map.of(BATCH_ID, b.getId()));
        assertThat(r.getException()).isNull();
        Batch again = r.getMessage().getBody(Batch.class);
        assertThat(again.getId()).isEqualTo(b.getId());
        long prompt = again.getUsage().getInputTokens();
        long completion = again.getUsage().getOutputTokens();
        assertThat(prompt).isPositive();
        assertThat(r.getMessage().getHeader(OpenAIBatchConstants.PROMPT_TOKENS)).isEqualTo(prompt);
        assertThat(r.getMessage().getHeader(OpenAIBatchConstants.COMPLETION_TOKENS)).isEqualTo(completion);
        assertThat(r.getMessage().getHeader(OpenAIBatchConstants.CACHED_TOKENS)).isEqualTo(0L);
        // gpt-4o-mini at batch prices: $0.075 input and $0.30 output per million tokens
        BigDecimal expected = new BigDecimal("0.075").multiply(BigDecimal.valueOf(prompt))
                .add(new BigDecimal("0.30").multiply(BigDecimal.valueOf(completion)))
                .divide(BigDecimal.valueOf(1_000_000));
        assertThat(r.getMessage().getHeader(OpenAIBatchConstants.ESTIMATED_COST, BigDecimal.class))
                .isEqualByComparingTo(expected);
    }

    /** A simulator whose batches stay in each status for a minute unless stepped by hand. */
    private static BatchSimulator slowSimulator() {
        return BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(java.time.Duration.ofMinutes(1)).build().start();
    }

    @Test
    void waitReturnsAtTheTimeoutWithTheBatchAsLastSeen() {
        try (BatchSimulator slow = slowSimulator()) {
            String uri = "openai-batch:slow1?track=false&baseUrl=" + slow.baseUrl();
            Exchange s = call(uri + "&operation=submit", jsonl("stuck", 2, "gpt-4o-mini"), null);
            assertThat(s.getException()).isNull();
            String id = s.getMessage().getHeader(BATCH_ID, String.class);
            long polls = slow.stats().pollsByBatch().getOrDefault(id, 0L);
            Exchange ex = call(uri + "&operation=wait&pollInterval=600000", null, Map.of(BATCH_ID, id,
                    OpenAIBatchConstants.WAIT_TIMEOUT, 300L));
            assertThat(ex.getException()).isNull();
            // one look, then (the poll interval being far longer than the timeout) one more when the timeout is up
            assertThat(slow.stats().pollsByBatch().get(id) - polls).isEqualTo(2L);
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.TIMED_OUT)).isEqualTo(true);
            assertThat(ex.getMessage().getBody(Batch.class).isTerminal()).isFalse();

            // results and deleteFiles of a batch that has not finished: a clear refusal
            for (String op : List.of("results", "deleteFiles")) {
                Exchange r = call(uri, null, Map.of(OPERATION, op, BATCH_ID, id));
                assertThat(r.getException()).as(op).isInstanceOf(OpenAIBatchOperationException.class)
                        .hasMessageContaining("not finished yet").hasMessageContaining(id)
                        .hasMessageContaining("validating");
                assertThat(((OpenAIBatchOperationException) r.getException()).getReason())
                        .isEqualTo(OpenAIBatchOperationException.Reason.NOT_FINISHED);
            }
        }
    }

    @Test
    void cancelCancelsAndACancelledBatchCannotBeCancelledAgain() {
        try (BatchSimulator slow = slowSimulator()) {
            String uri = "openai-batch:slow2?track=false&baseUrl=" + slow.baseUrl();
            Exchange s = call(uri + "&operation=submit", jsonl("cancel", 3, "gpt-4o-mini"), null);
            String id = s.getMessage().getHeader(BATCH_ID, String.class);
            Exchange ex = call(uri + "&operation=cancel", null, Map.of(BATCH_ID, id));
            assertThat(ex.getException()).isNull();
            assertThat(ex.getMessage().getBody(Batch.class).getStatus()).isEqualTo("cancelling");
            assertThat(ex.getMessage().getHeader(OpenAIBatchConstants.BATCH_STATUS)).isEqualTo("cancelling");
            slow.step(id);
            assertThat(slow.batch(id).path("status").asText()).isEqualTo("cancelled");
            Exchange again = call(uri + "&operation=cancel", null, Map.of(BATCH_ID, id));
            assertThat(again.getException()).isInstanceOf(OpenAIBatchOperationException.class)
                    .hasMessageContaining("cannot be cancelled").hasMessageContaining("it is cancelled");
            assertThat(((OpenAIBatchOperationException) again.getException()).getReason())
                    .isEqualTo(OpenAIBatchOperationException.Reason.CONFLICT);
        }
    }

    @Test
    void listReadsEveryPageAndFiltersByNameStatusAndLimit() {
        for (int i = 0; i < 25; i++) {
            Exchange ex = call("openai-batch:paged?track=false&operation=submit", jsonl("p" + i, 1, "gpt-4o-mini"),
                    null);
            assertThat(ex.getException()).isNull();
        }
        call("openai-batch:unrelated?track=false&operation=submit", jsonl("u", 1, "gpt-4o-mini"), null);

        long calls = sim.stats().calls("GET /v1/batches");
        Exchange all = call("openai-batch:paged?operation=list&pageSize=7", null, null);
        assertThat(all.getException()).isNull();
        List<?> listed = all.getMessage().getBody(List.class);
        assertThat(listed).hasSize(25);
        assertThat(all.getMessage().getHeader(OpenAIBatchConstants.BATCH_COUNT)).isEqualTo(25);
        assertThat(listed).allMatch(b -> "paged".equals(((Batch) b).getMetadata().get("camel_openai_batch_name")));
        // more than 26 batches exist (other tests too): at least 4 pages of 7
        assertThat(sim.stats().calls("GET /v1/batches") - calls).isGreaterThanOrEqualTo(4);

        Exchange limited = call("openai-batch:paged?operation=list&pageSize=7", null,
                Map.of(OpenAIBatchConstants.LIMIT, 10));
        assertThat(limited.getMessage().getBody(List.class)).hasSize(10);
        assertThat(ids(limited)).isEqualTo(ids(all).subList(0, 10));

        Exchange everyone = call("openai-batch:paged?operation=list&pageSize=7&listAll=true", null, null);
        assertThat(everyone.getMessage().getBody(List.class)).hasSizeGreaterThanOrEqualTo(26);

        await().atMost(java.time.Duration.ofSeconds(20)).untilAsserted(() -> {
            Exchange completed = call("openai-batch:paged?operation=list&pageSize=7", null,
                    Map.of(OpenAIBatchConstants.LIST_STATUS, "completed"));
            assertThat(completed.getMessage().getBody(List.class)).hasSize(25);
        });
        Exchange none = call("openai-batch:paged?operation=list&listStatus=in_progress,validating", null, null);
        assertThat(none.getMessage().getBody(List.class)).isEmpty();
        Exchange bad = call("openai-batch:paged?operation=list&listStatus=done", null, null);
        assertThat(bad.getException()).isInstanceOf(OpenAIBatchOperationException.class)
                .hasMessageContaining("unknown batch status 'done'");
    }

    @Test
    void resultsAsLinesAndTheErrorFile() {
        String doc = jsonl("res", 3, "gpt-4o-mini")
                     + "{\"custom_id\":\"bad-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":"
                     + "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"FAIL_400\"}]}}\n";
        Exchange s = call(OPS + "&operation=submit", doc, null);
        String id = s.getMessage().getBody(Batch.class).getId();
        waitFor(id);
        Exchange out = call(OPS + "&operation=results&resultsAs=lines", null, Map.of(BATCH_ID, id));
        assertThat(out.getException()).isNull();
        List<?> lines = out.getMessage().getBody(List.class);
        assertThat(lines).hasSize(3).allMatch(l -> l instanceof Map);
        List<Object> cids = new java.util.ArrayList<>();
        lines.forEach(l -> cids.add(((Map<?, ?>) l).get("custom_id")));
        assertThat(cids).containsExactlyInAnyOrder("res-0", "res-1", "res-2");
        Exchange err = call(OPS + "&operation=results&resultsAs=lines", null,
                Map.of(BATCH_ID, id, OpenAIBatchConstants.RESULTS_FILE, "error"));
        assertThat(err.getException()).isNull();
        List<?> errors = err.getMessage().getBody(List.class);
        assertThat(errors).hasSize(1);
        assertThat(((Map<?, ?>) errors.get(0)).get("custom_id")).isEqualTo("bad-1");
        assertThat(err.getMessage().getHeader(OpenAIBatchConstants.RESULTS_FILE_ID)).isNotNull();
    }

    @Test
    void deleteFilesLeavesTheSimulatorsStorageEmpty() {
        sim.reset();
        Batch b = submitOne("del", 3);
        waitFor(b.getId());
        assertThat(sim.stats().filesStored()).isEqualTo(2);
        Exchange ex = call(OPS + "&operation=deleteFiles", null, Map.of(BATCH_ID, b.getId()));
        assertThat(ex.getException()).isNull();
        Batch done = call(OPS + "&operation=retrieve", null, Map.of(BATCH_ID, b.getId())).getMessage()
                .getBody(Batch.class);
        assertThat(ex.getMessage().getBody(List.class)).containsExactly(done.getInputFileId(), done.getOutputFileId());
        assertThat(sim.stats().filesStored()).isZero();
        // again: nothing left to delete, no error
        Exchange again = call(OPS + "&operation=deleteFiles", null, Map.of(BATCH_ID, b.getId()));
        assertThat(again.getException()).isNull();
        assertThat(again.getMessage().getBody(List.class)).isEmpty();
    }

    @Test
    void flushSealsTheOpenSegments() {
        Exchange spooled = call("openai-batch:flushme?model=gpt-4o-mini&batchTimeout=0", "Calculate: 1 + 1 = ", null);
        assertThat(spooled.getException()).isNull();
        Exchange ex = call("openai-batch:flushme?operation=flush", null, null);
        assertThat(ex.getException()).isNull();
        assertThat(ex.getMessage().getBody(List.class)).hasSize(1);
        Exchange nothing = call("openai-batch:flushme?operation=flush", null, null);
        assertThat(nothing.getMessage().getBody(List.class)).isEmpty();
    }

    @Test
    void clearErrors() {
        Exchange missing = call(OPS + "&operation=retrieve", null, null);
        assertThat(missing.getException()).isInstanceOf(OpenAIBatchOperationException.class)
                .hasMessageContaining("the batch id is missing").hasMessageContaining(BATCH_ID);
        assertThat(((OpenAIBatchOperationException) missing.getException()).getReason())
                .isEqualTo(OpenAIBatchOperationException.Reason.MISSING_HEADER);

        for (String op : List.of("retrieve", "wait", "cancel", "results", "deleteFiles")) {
            Exchange unknown = call(OPS, null, Map.of(OPERATION, op, BATCH_ID, "batch_does_not_exist"));
            assertThat(unknown.getException()).as(op).isInstanceOf(OpenAIBatchOperationException.class)
                    .hasMessageContaining("no batch 'batch_does_not_exist'").hasMessageContaining("404");
            assertThat(((OpenAIBatchOperationException) unknown.getException()).getReason())
                    .isEqualTo(OpenAIBatchOperationException.Reason.NOT_FOUND);
        }

        Exchange badOp = call(OPS, null, Map.of(OPERATION, "explode"));
        assertThat(badOp.getException()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Unknown operation 'explode'");

        Exchange badLine = call(OPS + "&operation=submit", jsonl("ok", 1, "gpt-4o-mini") + "{not json}\n", null);
        assertThat(badLine.getException()).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("line 2");
        Exchange wrongUrl = call(OPS + "&operation=submit&endpoint=/v1/embeddings", jsonl("x", 1, "gpt-4o-mini"),
                null);
        assertThat(wrongUrl.getException()).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("line 1").hasMessageContaining("differs from the batch endpoint");
        Exchange dup = call(OPS + "&operation=submit", jsonl("d", 2, "gpt-4o-mini") + jsonl("d", 1, "gpt-4o-mini"),
                null);
        assertThat(dup.getException()).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("line 3").hasMessageContaining("d-0");
        Exchange noModel = call(OPS + "&operation=submit",
                "{\"custom_id\":\"m\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}",
                null);
        assertThat(noModel.getException()).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("model is missing");
        Exchange empty = call(OPS + "&operation=submit", "\n\n", null);
        assertThat(empty.getException()).hasMessageContaining("no request to submit");
        Exchange notADoc = call(OPS + "&operation=submit", Map.of("model", "x"), null);
        assertThat(notADoc.getException()).hasMessageContaining("JSONL document");
    }
}
