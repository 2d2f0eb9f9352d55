package dev.camelbatch.openaibatch.producer;

import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.api.Batch;
import dev.camelbatch.openaibatch.engine.usage.BatchProgress;
import dev.camelbatch.openaibatch.engine.usage.PriceTable;
import dev.camelbatch.openaibatch.engine.usage.TokenUsage;
import dev.camelbatch.openaibatch.engine.usage.UsageCost;
import dev.camelbatch.openaibatch.monitor.UsageWatch;
import org.apache.camel.Message;

/** Puts batch state, progress, usage and estimated cost on a message as headers. */
public final class OpenAIBatchHeaders {

    private OpenAIBatchHeaders() {
    }

    /** Batch event exchanges: what the monitor knows at the event. */
    public static void event(UsageWatch.EventInfo info, Message msg) {
        if (info == null) {
            return;
        }
        progress(info.progress(), msg);
        usage(info.usage(), info.model(), info.cost(), msg);
        if (info.usageSource() != null) {
            msg.setHeader(OpenAIBatchConstants.USAGE_SOURCE, info.usageSource());
        }
    }

    /** Operations that return a batch: id, status, counts, file ids, usage and cost (when reported). */
    static void batch(Batch b, Message msg, PriceTable prices, BatchProgress progress) {
        msg.setHeader(OpenAIBatchConstants.BATCH_ID, b.getId());
        msg.setHeader(OpenAIBatchConstants.BATCH_STATUS, b.getStatus());
        if (b.getRequestCounts() != null) {
            msg.setHeader(OpenAIBatchConstants.COMPLETED_COUNT, nz(b.getRequestCounts().getCompleted()));
            msg.setHeader(OpenAIBatchConstants.FAILED_COUNT, nz(b.getRequestCounts().getFailed()));
            msg.setHeader(OpenAIBatchConstants.TOTAL_COUNT, nz(b.getRequestCounts().getTotal()));
        }
        if (b.getEndpoint() != null) {
            msg.setHeader(OpenAIBatchConstants.ENDPOINT, b.getEndpoint());
        }
        set(msg, OpenAIBatchConstants.INPUT_FILE_ID, b.getInputFileId());
        set(msg, OpenAIBatchConstants.OUTPUT_FILE_ID, b.getOutputFileId());
        set(msg, OpenAIBatchConstants.ERROR_FILE_ID, b.getErrorFileId());
        progress(progress, msg);
        TokenUsage u = TokenUsage.of(b.getUsage());
        if (u != null) {
            String model = b.getModel();
            usage(u, model, prices != null ? prices.cost(model, u) : null, msg);
        }
    }

    private static void progress(BatchProgress p, Message msg) {
        if (p == null) {
            return;
        }
        msg.setHeader(OpenAIBatchConstants.PROGRESS_PERCENT, p.percent());
        set(msg, OpenAIBatchConstants.PROGRESS_RATE, p.ratePerSecond());
        set(msg, OpenAIBatchConstants.ETA, p.etaSeconds());
    }

    private static void usage(TokenUsage u, String model, UsageCost cost, Message msg) {
        if (u == null) {
            return;
        }
        msg.setHeader(OpenAIBatchConstants.PROMPT_TOKENS, u.promptTokens());
        msg.setHeader(OpenAIBatchConstants.COMPLETION_TOKENS, u.completionTokens());
        msg.setHeader(OpenAIBatchConstants.TOTAL_TOKENS, u.totalTokens());
        msg.setHeader(OpenAIBatchConstants.CACHED_TOKENS, u.cachedTokens());
        msg.setHeader(OpenAIBatchConstants.REASONING_TOKENS, u.reasoningTokens());
        set(msg, OpenAIBatchConstants.COST_MODEL, model);
        if (cost != null) {
            msg.setHeader(OpenAIBatchConstants.ESTIMATED_COST, cost.total());
        } else {
            msg.removeHeader(OpenAIBatchConstants.ESTIMATED_COST);
        }
    }

    private static void set(Message msg, String name, Object value) {
        if (value != null) {
            msg.setHeader(name, value);
        } else {
            msg.removeHeader(name);
        }
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
