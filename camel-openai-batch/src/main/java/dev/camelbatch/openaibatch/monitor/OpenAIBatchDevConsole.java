package dev.camelbatch.openaibatch.monitor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.camelbatch.openaibatch.OpenAIBatchEndpoint;
import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import dev.camelbatch.openaibatch.engine.BatchEvent;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import dev.camelbatch.openaibatch.engine.usage.BatchProgress;
import dev.camelbatch.openaibatch.engine.usage.UsageTotals;
import org.apache.camel.Endpoint;
import org.apache.camel.Route;
import org.apache.camel.spi.annotations.DevConsole;
import org.apache.camel.support.console.AbstractDevConsole;
import org.apache.camel.util.TimeUtils;
import org.apache.camel.util.URISupport;
import org.apache.camel.util.json.JsonArray;
import org.apache.camel.util.json.JsonObject;

/**
 * The {@code openai-batch} dev console: per endpoint name of the context, its endpoints and routes, the spool (open
 * and sealed segments), the batches in flight with status, counts, progress and age, finished batches still being
 * delivered (with rate and ETA once measurable), the counters since the name was opened, and the usage of finished
 * batches (tokens since start, over the store's history, and so far in flight) with the estimated cost. Option
 * {@code history} (default 1000): how many finished batches of the history to sum.
 */
@DevConsole(name = "openai-batch", displayName = "OpenAI Batch", description = "OpenAI Batch queues and batches")
public class OpenAIBatchDevConsole extends AbstractDevConsole {

    /** How many finished segments of the store's history the usage sums (option). */
    public static final String HISTORY = "history";

    public OpenAIBatchDevConsole() {
        super("camel", "openai-batch", "OpenAI Batch", "OpenAI Batch queues and batches");
    }

    /** The endpoints of the context, by endpoint name (and store). */
    private Map<String, List<OpenAIBatchEndpoint>> queues() {
        Map<String, List<OpenAIBatchEndpoint>> m = new LinkedHashMap<>();
        for (Endpoint e : getCamelContext().getEndpoints()) {
            if (e instanceof OpenAIBatchEndpoint obe) {
                m.computeIfAbsent(OpenAIBatchRuntime.storeDirectory(obe.getConfiguration()) + "|" + obe.getName(),
                        k -> new ArrayList<>()).add(obe);
            }
        }
        return m;
    }

    private List<String> consumerRoutes(OpenAIBatchEndpoint endpoint) {
        List<String> ids = new ArrayList<>();
        for (Route r : getCamelContext().getRoutes()) {
            if (r.getEndpoint() instanceof OpenAIBatchEndpoint e && e.getName().equals(endpoint.getName())) {
                ids.add(r.getRouteId());
            }
        }
        return ids;
    }

    @Override
    protected String doCallText(Map<String, Object> options) {
        JsonObject root = (JsonObject) doCallJson(options);
        StringBuilder sb = new StringBuilder();
        long now = System.currentTimeMillis();
        for (Object o : (JsonArray) root.get("queues")) {
            JsonObject q = (JsonObject) o;
            sb.append(String.format("%nopenai-batch:%s   (store %s)%n", q.get("name"), q.get("storeDirectory")));
            for (Object uri : (JsonArray) q.get("endpoints")) {
                sb.append(String.format("    Endpoint: %s%n", uri));
            }
            JsonArray routes = (JsonArray) q.get("consumerRoutes");
            sb.append(String.format("    Consumer: %s%n", routes.isEmpty() ? "none in this context"
                    : "route " + String.join(", ", routes.stream().map(String::valueOf).toList())
                      + (Boolean.TRUE.equals(q.get("engineRunning")) ? " (engine running)" : " (engine stopped)")));
            if (!Boolean.TRUE.equals(q.get("open"))) {
                sb.append("    Not started: no producer or consumer of this name runs in this JVM\n");
                continue;
            }
            if (q.get("authProblem") != null) {
                sb.append(String.format("    API refused the key: %s%n", q.get("authProblem")));
            }
            JsonObject spool = (JsonObject) q.get("spool");
            sb.append(String.format("    Spool: %s open segment(s) with %s request(s), %s sealed with %s waiting for"
                                    + " submission%n",
                    spool.get("openSegments"), spool.get("openRequests"), spool.get("sealedSegments"),
                    spool.get("sealedRequests")));
            for (Object so : (JsonArray) q.get("segments")) {
                JsonObject s = (JsonObject) so;
                String st = (String) s.get("state");
                if (!"OPEN".equals(st) && !"SEALED".equals(st)) {
                    continue;
                }
                sb.append(String.format("      %-7s %s  %s  %s requests  age %s%s%n", st, s.get("segmentId"),
                        s.get("model"), s.get("requests"), age(now, s.getLong("createdAt")),
                        s.get("sealReason") != null ? "  sealed by " + s.get("sealReason") : ""));
            }
            JsonArray batches = (JsonArray) q.get("batches");
            sb.append(String.format("    Batches in flight or delivering: %d%n", batches.size()));
            for (Object bo : batches) {
                JsonObject b = (JsonObject) bo;
                sb.append(String.format("      %-10s %-28s %-11s %s/%s done, %s failed (%s%%)%s  age %s"
                                        + "  last progress %s  attempt %s  %s%n",
                        b.get("state"), b.get("batchId") != null ? b.get("batchId") : "-",
                        b.get("batchStatus") != null ? b.get("batchStatus") : "-", b.get("completed"), b.get("total"),
                        b.get("failed"), b.get("progressPercent"),
                        b.get("etaSeconds") != null ? "  ETA " + BatchProgress.duration(b.getLong("etaSeconds")) : "",
                        age(now, b.getLong("submittedAt")),
                        b.get("lastProgressAt") != null ? age(now, b.getLong("lastProgressAt")) + " ago" : "-",
                        b.get("attempt"), b.get("model")));
            }
            JsonObject c = (JsonObject) q.get("counters");
            sb.append(String.format("    Since start: %s requests spooled, %s segments sealed, %s batches created,"
                                    + " %s done, %s failed, %s stuck; %s result lines, %s error lines; %s requests"
                                    + " resubmitted, %s submit failures; %s poll calls%n",
                    c.get("requestsSpooled"), c.get("segmentsSealed"), c.get("batchesCreated"), c.get("batchesDone"),
                    c.get("batchesFailed"), c.get("batchesStuck"), c.get("resultLines"), c.get("errorLines"),
                    c.get("requestsResubmitted"), c.get("submitFailures"), c.get("pollCalls")));
            JsonObject lines = (JsonObject) c.get("linesByCode");
            if (!lines.isEmpty()) {
                sb.append(String.format("    Lines by code: %s%n", lines));
            }
            JsonObject u = (JsonObject) q.get("usage");
            JsonObject since = (JsonObject) u.get("sinceStart");
            JsonObject hist = (JsonObject) u.get("history");
            sb.append(String.format("    Usage since start: %s input (%s cached), %s output (%s reasoning) tokens%n",
                    since.get("inputTokens"), since.get("cachedTokens"), since.get("outputTokens"),
                    since.get("reasoningTokens")));
            sb.append(String.format("    Usage of the last %s finished batches: %s input (%s cached), %s output"
                                    + " (%s reasoning) tokens; in flight so far: %s input, %s output%n",
                    hist.get("batches"), hist.get("inputTokens"), hist.get("cachedTokens"), hist.get("outputTokens"),
                    hist.get("reasoningTokens"), ((JsonObject) u.get("inFlight")).get("inputTokens"),
                    ((JsonObject) u.get("inFlight")).get("outputTokens")));
            JsonObject cost = (JsonObject) u.get("cost");
            sb.append(String.format("    Estimated cost since start: $%s for %s finished batch(es)%s%s%n",
                    cost.get("estimatedCost"), cost.get("batches"),
                    ((Number) cost.get("batchesWithUnknownCost")).longValue() > 0
                            ? " (" + cost.get("batchesWithUnknownCost") + " without a known price)" : "",
                    cost.get("pricesDate") != null ? "; batch prices of " + cost.get("pricesDate") : ""));
        }
        if (sb.isEmpty()) {
            sb.append("No openai-batch endpoints in this context\n");
        }
        return sb.toString();
    }

    private static String age(long now, Long since) {
        return since != null ? TimeUtils.printDuration(Math.max(0, now - since), true) : "-";
    }

    @Override
    protected Map<String, Object> doCallJson(Map<String, Object> options) {
        int historyMax = optionInt(options, HISTORY, 1000);
        JsonObject root = new JsonObject();
        JsonArray list = new JsonArray();
        root.put("queues", list);
        long now = System.currentTimeMillis();
        for (List<OpenAIBatchEndpoint> eps : queues().values()) {
            OpenAIBatchEndpoint first = eps.get(0);
            JsonObject q = new JsonObject();
            list.add(q);
            q.put("name", first.getName());
            q.put("storeDirectory", OpenAIBatchRuntime.storeDirectory(first.getConfiguration()).toString());
            JsonArray uris = new JsonArray();
            eps.forEach(e -> uris.add(URISupport.sanitizeUri(e.getEndpointUri())));
            q.put("endpoints", uris);
            q.put("consumerRoutes", new JsonArray(consumerRoutes(first)));
            OpenAIBatchRuntime rt = OpenAIBatchRuntime.peek(first);
            q.put("open", rt != null);
            q.put("engineRunning", rt != null && rt.monitor().isEngineRunning());
            if (rt == null) {
                continue;
            }
            OpenAIBatchMonitor m = rt.monitor();
            if (m.authProblem() != null) {
                q.put("authProblem", m.authProblem());
            }
            OpenAIBatchMonitor.Snapshot snap = m.snapshot();
            JsonObject spool = new JsonObject();
            spool.put("openSegments", snap.segments(SegmentStatus.OPEN));
            spool.put("openRequests", snap.requests(SegmentStatus.OPEN));
            spool.put("sealedSegments", snap.segments(SegmentStatus.SEALED));
            spool.put("sealedRequests", snap.requests(SegmentStatus.SEALED));
            spool.put("requestsWaiting", snap.requestsWaiting());
            q.put("spool", spool);
            JsonObject byState = new JsonObject();
            for (SegmentStatus st : SegmentStatus.values()) {
                if (st != SegmentStatus.STAGING && st != SegmentStatus.DONE) {
                    byState.put(st.name(), snap.segments(st));
                }
            }
            q.put("segmentsByState", byState);

            Map<String, BatchProgress> progress = new LinkedHashMap<>();
            UsageWatch usageMonitor = rt.usageMonitor();
            if (usageMonitor != null) {
                for (BatchProgress p : usageMonitor.progress()) {
                    progress.put(p.batchId(), p);
                }
            }
            JsonArray segments = new JsonArray();
            JsonArray batches = new JsonArray();
            long inFlightInput = 0;
            long inFlightOutput = 0;
            for (SegmentInfo s : snap.segments()) {
                JsonObject so = segment(s, now);
                if (s.getStatus() == SegmentStatus.OPEN || s.getStatus() == SegmentStatus.SEALED) {
                    segments.add(so);
                } else {
                    BatchProgress p = s.getBatchId() != null ? progress.get(s.getBatchId()) : null;
                    if (p != null && p.ratePerSecond() != null) {
                        so.put("ratePerSecond", p.ratePerSecond());
                    }
                    if (p != null && p.etaSeconds() != null) {
                        so.put("etaSeconds", p.etaSeconds());
                    }
                    batches.add(so);
                    inFlightInput += s.getInputTokens() != null ? s.getInputTokens() : 0;
                    inFlightOutput += s.getOutputTokens() != null ? s.getOutputTokens() : 0;
                }
            }
            q.put("segments", segments);
            q.put("batches", batches);

            JsonObject c = new JsonObject();
            c.put("requestsSpooled", m.requestsSpooled());
            c.put("documentsSpooled", m.documentsSpooled());
            c.put("segmentsSealed", m.segmentsSealed());
            c.put("filesUploaded", m.filesUploaded());
            c.put("batchesCreated", m.batchesCreated());
            c.put("batchesDone", m.batchesDone());
            c.put("batchesFailed", m.events(BatchEvent.Type.FAILED));
            c.put("batchesExpired", m.events(BatchEvent.Type.EXPIRED));
            c.put("batchesCancelled", m.events(BatchEvent.Type.CANCELLED));
            c.put("batchesStuck", m.events(BatchEvent.Type.STUCK));
            c.put("resultLines", m.resultLines());
            c.put("errorLines", m.errorLines());
            c.put("linesByCode", new JsonObject(new LinkedHashMap<>(m.linesByCode())));
            c.put("requestsResubmitted", m.requestsResubmitted());
            c.put("submitFailures", m.submitFailures());
            c.put("downloadRetries", m.downloadRetries());
            c.put("pollCalls", m.pollCalls());
            c.put("pollCycles", m.pollCycles());
            q.put("counters", c);

            JsonObject usage = new JsonObject();
            JsonObject since = new JsonObject();
            since.put("inputTokens", m.inputTokens());
            since.put("cachedTokens", m.cachedTokens());
            since.put("outputTokens", m.outputTokens());
            since.put("reasoningTokens", m.reasoningTokens());
            usage.put("sinceStart", since);
            usage.put("history", history(rt, historyMax));
            JsonObject inFlight = new JsonObject();
            inFlight.put("inputTokens", inFlightInput);
            inFlight.put("outputTokens", inFlightOutput);
            usage.put("inFlight", inFlight);
            UsageTotals totals = m.usage();
            JsonObject cost = new JsonObject();
            cost.put("currency", "USD");
            cost.put("estimatedCost", totals.estimatedCost().toPlainString());
            cost.put("batches", totals.batches());
            cost.put("batchesWithUnknownCost", totals.batchesWithUnknownCost());
            JsonObject byModel = new JsonObject();
            totals.costByModel().forEach((model, amount) -> byModel.put(model, amount.toPlainString()));
            cost.put("byModel", byModel);
            if (usageMonitor != null) {
                cost.put("pricesDate", usageMonitor.prices().date());
            }
            usage.put("cost", cost);
            q.put("usage", usage);
        }
        return root;
    }

    private static JsonObject segment(SegmentInfo s, long now) {
        JsonObject o = new JsonObject();
        o.put("segmentId", s.getId());
        o.put("state", s.getStatus().name());
        o.put("model", s.getModel());
        o.put("endpoint", s.getEndpoint());
        o.put("attempt", s.getAttempt());
        o.put("requests", s.getRequestCount());
        o.put("bytes", s.getBytes());
        o.put("createdAt", s.getCreatedAt());
        o.put("ageMillis", now - s.getCreatedAt());
        if (s.getSealedAt() != null) {
            o.put("sealedAt", s.getSealedAt());
            o.put("sealReason", s.getSealReason());
        }
        if (s.getBatchId() != null) {
            o.put("batchId", s.getBatchId());
            o.put("batchStatus", s.getBatchStatus());
        }
        if (s.getSubmittedAt() != null) {
            o.put("submittedAt", s.getSubmittedAt());
            o.put("batchAgeMillis", now - s.getSubmittedAt());
        }
        if (s.getLastProgressAt() != null) {
            o.put("lastProgressAt", s.getLastProgressAt());
        }
        if (s.getStatus() != SegmentStatus.OPEN && s.getStatus() != SegmentStatus.SEALED) {
            int total = s.getTotal() > 0 ? s.getTotal() : s.getRequestCount();
            o.put("completed", s.getCompleted());
            o.put("failed", s.getFailed());
            o.put("total", total);
            o.put("progressPercent", total > 0 ? (s.getCompleted() + s.getFailed()) * 100 / total : 0);
            o.put("delivered", s.getLinesDelivered());
        }
        if (s.getLastError() != null) {
            o.put("lastError", s.getLastError());
        }
        return o;
    }

    private static JsonObject history(OpenAIBatchRuntime rt, int max) {
        long batches = 0;
        long input = 0;
        long cached = 0;
        long output = 0;
        long reasoning = 0;
        long requests = 0;
        for (SegmentInfo s : rt.store().history(max)) {
            batches++;
            requests += s.getTotal();
            input += s.getInputTokens() != null ? s.getInputTokens() : 0;
            cached += s.getCachedTokens() != null ? s.getCachedTokens() : 0;
            output += s.getOutputTokens() != null ? s.getOutputTokens() : 0;
            reasoning += s.getReasoningTokens() != null ? s.getReasoningTokens() : 0;
        }
        JsonObject o = new JsonObject();
        o.put("batches", batches);
        o.put("requests", requests);
        o.put("inputTokens", input);
        o.put("cachedTokens", cached);
        o.put("outputTokens", output);
        o.put("reasoningTokens", reasoning);
        return o;
    }
}
