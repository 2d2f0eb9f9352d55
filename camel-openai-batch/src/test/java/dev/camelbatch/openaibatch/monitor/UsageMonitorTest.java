package dev.camelbatch.openaibatch.monitor;

import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.api.BatchRequestCounts;
import dev.camelbatch.openaibatch.api.BatchUsage;
import dev.camelbatch.openaibatch.engine.BatchEvent;
import dev.camelbatch.openaibatch.engine.EmittedLine;
import dev.camelbatch.openaibatch.engine.EngineListener;
import dev.camelbatch.openaibatch.engine.LineSink;
import dev.camelbatch.openaibatch.engine.lines.OutputLine;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.usage.BatchProgress;
import dev.camelbatch.openaibatch.engine.usage.PriceTable;
import dev.camelbatch.openaibatch.engine.usage.ProgressTracker;
import dev.camelbatch.openaibatch.engine.usage.UsageAccumulator;
import dev.camelbatch.openaibatch.engine.usage.UsageTotals;
import dev.camelbatch.openaibatch.producer.OpenAIBatchHeaders;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Usage totals, cost and progress as the monitor computes them from engine events and delivered lines, against
 * figures computed by hand: batch.usage when present, else the lines' usage (cached and reasoning kept apart), and a
 * model without a price.
 */
@Timeout(300)
class UsageMonitorTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    /** input, cached input, output per million tokens */
    static final PriceTable PRICES = PriceTable.builder().date("test").price("cheap", "1", "0.5", "4")
            .price("pricey", "10", "2.5", "40").build();

    static SegmentInfo segment(String id, String model, String batchId) {
        SegmentInfo s = new SegmentInfo();
        s.setId(id);
        s.setModel(model);
        s.setBatchId(batchId);
        s.setRequestCount(2);
        return s;
    }

    static Batch batch(String id, String status, int completed, int failed, int total, BatchUsage usage) {
        Batch b = new Batch();
        b.setId(id);
        b.setStatus(status);
        BatchRequestCounts c = new BatchRequestCounts();
        c.setCompleted(completed);
        c.setFailed(failed);
        c.setTotal(total);
        b.setRequestCounts(c);
        b.setUsage(usage);
        return b;
    }

    static BatchUsage usage(long in, long cached, long out, long reasoning) {
        BatchUsage u = new BatchUsage();
        u.setInputTokens(in);
        u.setOutputTokens(out);
        u.setTotalTokens(in + out);
        BatchUsage.InputTokensDetails id = new BatchUsage.InputTokensDetails();
        id.setCachedTokens(cached);
        u.setInputTokensDetails(id);
        BatchUsage.OutputTokensDetails od = new BatchUsage.OutputTokensDetails();
        od.setReasoningTokens(reasoning);
        u.setOutputTokensDetails(od);
        return u;
    }

    static EmittedLine line(SegmentInfo s, String json) throws Exception {
        JsonNode parsed = MAPPER.readTree(json);
        return new EmittedLine(EmittedLine.Kind.RESULT, s, parsed.path("custom_id").asText(), json.getBytes(),
                OutputLine.parse(json.getBytes(), MAPPER), 200, null, null, null, 0, 2);
    }

    @Test
    void batchUsageWhenReportedElseTheLinesSumAndUnknownModels() throws Exception {
        UsageAccumulator acc = new UsageAccumulator("monitor-test");
        UsageWatch monitor = new UsageWatch("monitor-test", PRICES, acc, 60_000);
        List<UsageWatch.EventInfo> infos = new ArrayList<>();
        List<Message> headers = new ArrayList<>();
        EngineListener listener = monitor.wrap((EngineListener) event -> {
            UsageWatch.EventInfo info = monitor.info(event);
            infos.add(info);
            Message m = new DefaultMessage(new DefaultCamelContext());
            OpenAIBatchHeaders.event(info, m);
            headers.add(m);
        });
        LineSink sink = monitor.wrap((LineSink) l -> true);

        // 1) batch.usage reported: 10,000 prompt (2,000 cached), 4,000 completion (1,000 reasoning) of "cheap"
        // 8,000 x 1/M = 0.008; 2,000 x 0.5/M = 0.001; 4,000 x 4/M = 0.016; total 0.025
        SegmentInfo s1 = segment("s1", "cheap-2025-01-01", "b1");
        listener.onEvent(new BatchEvent(BatchEvent.Type.SUBMITTED, s1, batch("b1", "validating", 0, 0, 0, null), ""));
        listener.onEvent(new BatchEvent(BatchEvent.Type.PROGRESS, s1, batch("b1", "in_progress", 1, 0, 2, null), ""));
        Batch done1 = batch("b1", "completed", 2, 0, 2, usage(10_000, 2_000, 4_000, 1_000));
        listener.onEvent(new BatchEvent(BatchEvent.Type.COMPLETED, s1, done1, "completed"));
        assertThat(infos.get(2).cost().total()).isEqualByComparingTo("0.025");
        s1.setInputTokens(10_000L);
        s1.setCachedTokens(2_000L);
        s1.setOutputTokens(4_000L);
        s1.setReasoningTokens(1_000L);
        // lines are delivered too, but batch.usage wins
        sink.deliver(line(s1, "{\"custom_id\":\"a\",\"response\":{\"status_code\":200,\"body\":{\"usage\":"
                              + "{\"prompt_tokens\":1,\"completion_tokens\":1}}}}"));
        listener.onEvent(new BatchEvent(BatchEvent.Type.DONE, s1, null, "done"));
        UsageWatch.EventInfo i1 = infos.get(3);
        assertThat(i1.usageSource()).isEqualTo("batch");
        assertThat(i1.usage().promptTokens()).isEqualTo(10_000);
        assertThat(i1.cost().total()).isEqualByComparingTo("0.025");
        assertThat(headers.get(3).getHeader(OpenAIBatchConstants.ESTIMATED_COST, BigDecimal.class))
                .isEqualByComparingTo("0.025");
        assertThat(headers.get(3).getHeader(OpenAIBatchConstants.CACHED_TOKENS)).isEqualTo(2_000L);
        assertThat(headers.get(3).getHeader(OpenAIBatchConstants.REASONING_TOKENS)).isEqualTo(1_000L);
        assertThat(headers.get(3).getHeader(OpenAIBatchConstants.TOTAL_TOKENS)).isEqualTo(14_000L);
        assertThat(headers.get(3).getHeader(OpenAIBatchConstants.PROGRESS_PERCENT)).isEqualTo(100.0);

        // 2) no batch.usage: summed from the lines, a chat line and a responses line, served as "pricey-x"
        // (the requested model has no price): 1,500 + 500 prompt (300 + 200 cached), 100 + 400 completion (0 + 50
        // reasoning): 1,500 x 10/M = 0.015; 500 x 2.5/M = 0.00125; 500 x 40/M = 0.02; total 0.03625
        SegmentInfo s2 = segment("s2", "azure-deployment", "b2");
        listener.onEvent(new BatchEvent(BatchEvent.Type.COMPLETED, s2, batch("b2", "completed", 2, 0, 2, null), ""));
        assertThat(infos.get(4).usage()).isNull();
        sink.deliver(line(s2, "{\"custom_id\":\"c\",\"response\":{\"status_code\":200,\"body\":{\"model\":\"pricey-x\","
                              + "\"usage\":{\"prompt_tokens\":1500,\"completion_tokens\":100,\"total_tokens\":1600,"
                              + "\"prompt_tokens_details\":{\"cached_tokens\":300},"
                              + "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}}}"));
        sink.deliver(line(s2, "{\"custom_id\":\"d\",\"response\":{\"status_code\":200,\"body\":{\"model\":\"pricey-x\","
                              + "\"usage\":{\"input_tokens\":500,\"output_tokens\":400,\"total_tokens\":900,"
                              + "\"input_tokens_details\":{\"cached_tokens\":200},"
                              + "\"output_tokens_details\":{\"reasoning_tokens\":50}}}}}"));
        listener.onEvent(new BatchEvent(BatchEvent.Type.DONE, s2, null, "done"));
        UsageWatch.EventInfo i2 = infos.get(5);
        assertThat(i2.usageSource()).isEqualTo("lines");
        assertThat(i2.model()).isEqualTo("pricey-x");
        assertThat(i2.usage().promptTokens()).isEqualTo(2_000);
        assertThat(i2.usage().cachedTokens()).isEqualTo(500);
        assertThat(i2.usage().completionTokens()).isEqualTo(500);
        assertThat(i2.usage().reasoningTokens()).isEqualTo(50);
        assertThat(i2.cost().total()).isEqualByComparingTo("0.03625");

        // 3) an unknown model: tokens counted, cost unknown
        SegmentInfo s3 = segment("s3", "mystery", "b3");
        s3.setInputTokens(700L);
        s3.setOutputTokens(300L);
        listener.onEvent(new BatchEvent(BatchEvent.Type.DONE, s3, null, "done"));
        UsageWatch.EventInfo i3 = infos.get(6);
        assertThat(i3.cost()).isNull();
        assertThat(headers.get(6).getHeader(OpenAIBatchConstants.ESTIMATED_COST)).isNull();
        assertThat(headers.get(6).getHeader(OpenAIBatchConstants.PROMPT_TOKENS)).isEqualTo(700L);

        UsageTotals t = acc.snapshot();
        assertThat(t.batches()).isEqualTo(3);
        assertThat(t.batchesWithUnknownCost()).isEqualTo(1);
        assertThat(t.promptTokens()).isEqualTo(10_000 + 2_000 + 700);
        assertThat(t.cachedTokens()).isEqualTo(2_000 + 500);
        assertThat(t.completionTokens()).isEqualTo(4_000 + 500 + 300);
        assertThat(t.reasoningTokens()).isEqualTo(1_000 + 50);
        assertThat(t.totalTokens()).isEqualTo(12_700 + 4_800);
        assertThat(t.estimatedCost()).isEqualByComparingTo("0.06125");
        assertThat(t.usageByModel()).containsOnlyKeys("cheap-2025-01-01", "azure-deployment", "mystery");
        assertThat(t.costByModel()).containsOnlyKeys("cheap-2025-01-01", "azure-deployment");
    }

    @Test
    void theUsageMBeanIsAStandardMBean() throws Exception {
        UsageAccumulator acc = UsageAccumulator.forName("mbean-test");
        acc.reset();
        UsageWatch monitor = new UsageWatch("mbean-test", PRICES, acc, 60_000);
        acc.add("cheap", new dev.camelbatch.openaibatch.engine.usage.TokenUsage(1_000_000, 0, 250_000, 0),
                PRICES.cost("cheap", new dev.camelbatch.openaibatch.engine.usage.TokenUsage(1_000_000, 0, 250_000, 0)));
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName on = new ObjectName("test.openai-batch:type=openai-batch,name=\"mbean-test\"");
        server.registerMBean(new OpenAIBatchUsage("mbean-test", monitor), on);
        try {
            assertThat(server.getAttribute(on, "Batches")).isEqualTo(1L);
            assertThat(server.getAttribute(on, "PromptTokens")).isEqualTo(1_000_000L);
            assertThat(server.getAttribute(on, "TotalTokens")).isEqualTo(1_250_000L);
            // 1M x $1 + 250k x $4 per million = $2
            assertThat(server.getAttribute(on, "EstimatedCost")).isEqualTo(2.0);
            assertThat(server.getAttribute(on, "PriceTableDate")).isEqualTo("test");
            server.invoke(on, "resetTotals", null, null);
            assertThat(server.getAttribute(on, "Batches")).isEqualTo(0L);
        } finally {
            server.unregisterMBean(on);
        }
    }

    @Test
    void progressRateAndEta() {
        ProgressTracker t = new ProgressTracker(10_000);
        BatchProgress p0 = t.update("b", "in_progress", 0, 0, 1_000, null, 1_000_000);
        assertThat(p0.percent()).isZero();
        assertThat(p0.ratePerSecond()).isNull();
        assertThat(p0.etaSeconds()).isNull();
        assertThat(t.dueForLog("b", 1_000_000)).isTrue();
        // 100 requests (90 completed, 10 failed) in 10 s: 10/s, 900 left: 90 s
        BatchProgress p1 = t.update("b", "in_progress", 90, 10, 1_000, null, 1_010_000);
        assertThat(p1.percent()).isEqualTo(10.0);
        assertThat(p1.ratePerSecond()).isEqualTo(10.0);
        assertThat(p1.etaSeconds()).isEqualTo(90L);
        assertThat(p1.describe()).isEqualTo("in_progress 100/1,000 (10.0%), 10 failed, 10.0 req/s, ETA 1m 30s");
        assertThat(t.dueForLog("b", 1_005_000)).isFalse();
        assertThat(t.dueForLog("b", 1_010_000)).isTrue();
        // 333 more in the next 10 s: 433 in 20 s = 21.65/s, 567 left: ceil(26.19) = 27 s
        BatchProgress p2 = t.update("b", "in_progress", 423, 10, 1_000, null, 1_020_000);
        assertThat(p2.percent()).isEqualTo(43.3);
        assertThat(p2.etaSeconds()).isEqualTo(27L);
        BatchProgress end = t.update("b", "completed", 990, 10, 1_000, null, 1_030_000);
        assertThat(end.percent()).isEqualTo(100.0);
        assertThat(end.etaSeconds()).isZero();
        assertThat(t.dueForLog("b", 1_030_001)).isTrue();

        // first sight of a batch already under way: the rate since it went in_progress (epoch seconds)
        BatchProgress late = t.update("c", "in_progress", 300, 0, 1_200, 1_000L, 1_060_000);
        assertThat(late.ratePerSecond()).isEqualTo(5.0);
        assertThat(late.etaSeconds()).isEqualTo(180L);
        assertThat(BatchProgress.duration(7_380)).isEqualTo("2h 03m");
    }
}
