package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The deterministic "model" behind the simulated endpoints.
 *
 * <ul>
 * <li>Answer text: if the prompt (chat: last user message; responses: last user input; completions: the prompt)
 * contains {@code Calculate: 1 + N = } the answer is {@code "1 + N = <1+N>"}, otherwise {@code "Echo: <prompt>"}.</li>
 * <li>Token estimate: {@code max(1, ceil(chars / 4))}; a request's prompt tokens are the estimate over the total
 * length of all string values in its body except the top-level {@code model}.</li>
 * <li>Markers anywhere in a string of the body: {@code FAIL_400} (HTTP 400 line), {@code FAIL_500} (HTTP 500 line),
 * {@code FAIL_TIMEOUT} (non-HTTP {@code request_timeout} error).</li>
 * </ul>
 */
final class MockModel {

    static final Pattern CALCULATE = Pattern.compile("Calculate:\\s*1\\s*\\+\\s*(-?\\d+)\\s*=");

    private MockModel() {
    }

    /** The result of executing one request line. */
    /**
     * One executed request: its output or error line, and what the execution ended with ({@code statusCode} of the
     * response, or {@code errorCode} of a line without a response).
     */
    record Outcome(boolean success, String line, long promptTokens, long completionTokens, String customId,
            Integer statusCode, String errorCode) {
    }

    static long estimateTokens(long chars) {
        return Math.max(1L, (chars + 3) / 4);
    }

    /** Prompt tokens of a request body. */
    static long promptTokens(JsonNode body) {
        long[] chars = {0};
        if (body != null && body.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = body.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("model")) {
                    countChars(e.getValue(), chars);
                }
            }
        }
        return estimateTokens(chars[0]);
    }

    private static void countChars(JsonNode n, long[] acc) {
        if (n.isTextual()) {
            acc[0] += n.textValue().length();
        } else if (n.isContainerNode()) {
            for (JsonNode c : n) {
                countChars(c, acc);
            }
        }
    }

    static String answer(String prompt) {
        Matcher m = CALCULATE.matcher(prompt);
        if (m.find()) {
            BigInteger n = new BigInteger(m.group(1));
            return "1 + " + n + " = " + n.add(BigInteger.ONE);
        }
        return "Echo: " + prompt;
    }

    /** Which failure marker (if any) a body carries. */
    static String marker(JsonNode n) {
        if (n == null) {
            return null;
        }
        if (n.isTextual()) {
            String s = n.textValue();
            if (s.contains("FAIL_400")) {
                return "FAIL_400";
            }
            if (s.contains("FAIL_500")) {
                return "FAIL_500";
            }
            if (s.contains("FAIL_TIMEOUT")) {
                return "FAIL_TIMEOUT";
            }
            return null;
        }
        String found = null;
        if (n.isContainerNode()) {
            for (JsonNode c : n) {
                String m = marker(c);
                if (m != null && (found == null || m.compareTo(found) < 0)) {
                    found = m; // FAIL_400 < FAIL_500 < FAIL_TIMEOUT
                }
            }
        }
        return found;
    }

    /**
     * Executes one validated request line against {@code endpoint} (canonical {@code /v1/...} form).
     */
    static Outcome execute(String endpoint, JsonNode request, long nowSeconds) {
        String customId = request.path("custom_id").asText();
        JsonNode body = request.path("body");
        String model = body.path("model").asText();
        ObjectNode line = Json.object();
        line.put("id", Ids.batchRequest());
        line.put("custom_id", customId);
        long prompt = promptTokens(body);
        String marker = marker(body);
        if ("FAIL_400".equals(marker) || "FAIL_500".equals(marker)) {
            boolean client = marker.equals("FAIL_400");
            ObjectNode response = line.putObject("response");
            response.put("status_code", client ? 400 : 500);
            response.put("request_id", Ids.request());
            response.set("body", client
                    ? ApiException.errorBody("Simulated invalid request: the request body contains the FAIL_400 marker.",
                            "invalid_request_error", null, null)
                    : ApiException.errorBody("The server had an error while processing your request. Sorry about that! "
                            + "(simulated by the FAIL_500 marker)", "server_error", null, null));
            line.putNull("error");
            return new Outcome(false, Json.string(line), 0, 0, customId, client ? 400 : 500, null);
        }
        if ("FAIL_TIMEOUT".equals(marker)) {
            line.putNull("response");
            ObjectNode error = line.putObject("error");
            error.put("code", "request_timeout");
            error.put("message", "The request timed out before it could be completed (simulated by the FAIL_TIMEOUT marker).");
            return new Outcome(false, Json.string(line), 0, 0, customId, null, "request_timeout");
        }
        ObjectNode responseBody;
        long completion;
        switch (endpoint) {
            case "/v1/chat/completions" -> {
                String text = answer(lastUserText(body.path("messages")));
                completion = estimateTokens(text.length());
                responseBody = chatCompletion(model, text, prompt, completion, nowSeconds);
            }
            case "/v1/responses" -> {
                String text = answer(responsesInputText(body.path("input")));
                completion = estimateTokens(text.length());
                responseBody = response(model, text, body, prompt, completion, nowSeconds);
            }
            case "/v1/completions" -> {
                List<String> prompts = texts(body.path("prompt"));
                List<String> answers = new ArrayList<>();
                long c = 0;
                for (String p : prompts) {
                    String a = answer(p);
                    answers.add(a);
                    c += estimateTokens(a.length());
                }
                completion = c;
                responseBody = completion(model, answers, prompt, completion, nowSeconds);
            }
            case "/v1/embeddings" -> {
                completion = 0;
                responseBody = embeddings(model, body, prompt);
            }
            case "/v1/moderations" -> {
                completion = 0;
                responseBody = moderation(model, body);
            }
            default -> throw new IllegalStateException("unsupported endpoint " + endpoint);
        }
        ObjectNode response = line.putObject("response");
        response.put("status_code", 200);
        response.put("request_id", Ids.request());
        response.set("body", responseBody);
        line.putNull("error");
        return new Outcome(true, Json.string(line), prompt, completion, customId, 200, null);
    }

    // ---------------------------------------------------------------- prompt extraction

    static String lastUserText(JsonNode messages) {
        JsonNode chosen = null;
        if (messages.isArray()) {
            for (JsonNode m : messages) {
                if ("user".equals(m.path("role").asText())) {
                    chosen = m;
                }
            }
            if (chosen == null && messages.size() > 0) {
                chosen = messages.get(messages.size() - 1);
            }
        }
        return chosen == null ? "" : contentText(chosen.path("content"));
    }

    static String responsesInputText(JsonNode input) {
        if (input.isTextual()) {
            return input.textValue();
        }
        if (input.isArray()) {
            JsonNode chosen = null;
            for (JsonNode item : input) {
                if (item.isTextual() || "user".equals(item.path("role").asText())) {
                    chosen = item;
                }
            }
            if (chosen == null && input.size() > 0) {
                chosen = input.get(input.size() - 1);
            }
            if (chosen != null) {
                return chosen.isTextual() ? chosen.textValue() : contentText(chosen.path("content"));
            }
        }
        return "";
    }

    /** Text of a message content: a string, or the concatenated text of its text parts. */
    static String contentText(JsonNode content) {
        if (content.isTextual()) {
            return content.textValue();
        }
        StringBuilder sb = new StringBuilder();
        if (content.isArray()) {
            for (JsonNode part : content) {
                if (part.isTextual()) {
                    sb.append(part.textValue());
                } else if (part.path("text").isTextual()) {
                    sb.append(part.path("text").textValue());
                }
            }
        }
        return sb.toString();
    }

    private static List<String> texts(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n.isArray()) {
            for (JsonNode c : n) {
                out.add(c.isTextual() ? c.textValue() : c.toString());
            }
        } else if (n.isTextual()) {
            out.add(n.textValue());
        } else if (!n.isMissingNode() && !n.isNull()) {
            out.add(n.toString());
        }
        if (out.isEmpty()) {
            out.add("");
        }
        return out;
    }

    // ---------------------------------------------------------------- bodies

    private static ObjectNode chatCompletion(String model, String text, long prompt, long completion, long now) {
        ObjectNode b = Json.object();
        b.put("id", "chatcmpl-" + Ids.alnum(29));
        b.put("object", "chat.completion");
        b.put("created", now);
        b.put("model", model);
        ArrayNode choices = b.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", text);
        message.putNull("refusal");
        message.putArray("annotations");
        choice.putNull("logprobs");
        choice.put("finish_reason", "stop");
        ObjectNode usage = b.putObject("usage");
        usage.put("prompt_tokens", prompt);
        usage.put("completion_tokens", completion);
        usage.put("total_tokens", prompt + completion);
        usage.putObject("prompt_tokens_details").put("cached_tokens", 0).put("audio_tokens", 0);
        usage.putObject("completion_tokens_details").put("reasoning_tokens", 0).put("audio_tokens", 0)
                .put("accepted_prediction_tokens", 0).put("rejected_prediction_tokens", 0);
        b.put("service_tier", "default");
        b.put("system_fingerprint", "fp_simulator");
        return b;
    }

    private static ObjectNode response(String model, String text, JsonNode request, long prompt, long completion,
            long now) {
        ObjectNode b = Json.object();
        b.put("id", "resp_" + Ids.hex(48));
        b.put("object", "response");
        b.put("created_at", now);
        b.put("status", "completed");
        b.putNull("error");
        b.putNull("incomplete_details");
        JsonNode instructions = request.path("instructions");
        if (instructions.isTextual()) {
            b.put("instructions", instructions.textValue());
        } else {
            b.putNull("instructions");
        }
        JsonNode maxOutput = request.path("max_output_tokens");
        if (maxOutput.isNumber()) {
            b.put("max_output_tokens", maxOutput.longValue());
        } else {
            b.putNull("max_output_tokens");
        }
        b.put("model", model);
        ArrayNode output = b.putArray("output");
        ObjectNode msg = output.addObject();
        msg.put("type", "message");
        msg.put("id", "msg_" + Ids.hex(48));
        msg.put("status", "completed");
        msg.put("role", "assistant");
        ObjectNode part = msg.putArray("content").addObject();
        part.put("type", "output_text");
        part.put("text", text);
        part.putArray("annotations");
        b.put("output_text", text);
        b.put("parallel_tool_calls", true);
        b.putNull("previous_response_id");
        ObjectNode reasoning = b.putObject("reasoning");
        reasoning.putNull("effort");
        reasoning.putNull("summary");
        b.put("store", true);
        b.put("temperature", 1.0);
        b.putObject("text").putObject("format").put("type", "text");
        b.put("tool_choice", "auto");
        b.putArray("tools");
        b.put("top_p", 1.0);
        b.put("truncation", "disabled");
        ObjectNode usage = b.putObject("usage");
        usage.put("input_tokens", prompt);
        usage.putObject("input_tokens_details").put("cached_tokens", 0);
        usage.put("output_tokens", completion);
        usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
        usage.put("total_tokens", prompt + completion);
        b.putNull("user");
        JsonNode metadata = request.path("metadata");
        if (metadata.isObject()) {
            b.set("metadata", metadata.deepCopy());
        } else {
            b.putObject("metadata");
        }
        return b;
    }

    private static ObjectNode completion(String model, List<String> answers, long prompt, long completion, long now) {
        ObjectNode b = Json.object();
        b.put("id", "cmpl-" + Ids.alnum(29));
        b.put("object", "text_completion");
        b.put("created", now);
        b.put("model", model);
        ArrayNode choices = b.putArray("choices");
        for (int i = 0; i < answers.size(); i++) {
            ObjectNode c = choices.addObject();
            c.put("text", answers.get(i));
            c.put("index", i);
            c.putNull("logprobs");
            c.put("finish_reason", "stop");
        }
        ObjectNode usage = b.putObject("usage");
        usage.put("prompt_tokens", prompt);
        usage.put("completion_tokens", completion);
        usage.put("total_tokens", prompt + completion);
        b.put("system_fingerprint", "fp_simulator");
        return b;
    }

    private static ObjectNode embeddings(String model, JsonNode request, long prompt) {
        JsonNode input = request.path("input");
        List<String> inputs = new ArrayList<>();
        if (input.isArray() && input.size() > 0 && !input.get(0).isNumber()) {
            input.forEach(i -> inputs.add(i.isTextual() ? i.textValue() : i.toString()));
        } else {
            inputs.add(input.isTextual() ? input.textValue() : input.toString());
        }
        int dims = request.path("dimensions").isInt() ? Math.max(1, Math.min(4096, request.path("dimensions").intValue())) : 8;
        boolean base64 = "base64".equals(request.path("encoding_format").asText());
        ObjectNode b = Json.object();
        b.put("object", "list");
        ArrayNode data = b.putArray("data");
        for (int i = 0; i < inputs.size(); i++) {
            float[] v = vector(inputs.get(i), dims);
            ObjectNode e = data.addObject();
            e.put("object", "embedding");
            e.put("index", i);
            if (base64) {
                ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    bb.putFloat(f);
                }
                e.put("embedding", Base64.getEncoder().encodeToString(bb.array()));
            } else {
                ArrayNode arr = e.putArray("embedding");
                for (float f : v) {
                    arr.add(f);
                }
            }
        }
        b.put("model", model);
        ObjectNode usage = b.putObject("usage");
        usage.put("prompt_tokens", prompt);
        usage.put("total_tokens", prompt);
        return b;
    }

    /** A deterministic unit vector derived from SHA-256 of the text. */
    static float[] vector(String text, int dims) {
        float[] v = new float[dims];
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] seed = text.getBytes(StandardCharsets.UTF_8);
            byte[] block = new byte[0];
            double norm = 0;
            for (int i = 0; i < dims; i++) {
                if (i % 8 == 0) {
                    md.reset();
                    md.update(seed);
                    md.update((byte) (i / 8));
                    block = md.digest();
                }
                int j = (i % 8) * 4;
                int bits = ((block[j] & 0xff) << 24) | ((block[j + 1] & 0xff) << 16) | ((block[j + 2] & 0xff) << 8)
                        | (block[j + 3] & 0xff);
                v[i] = (float) (bits / (double) Integer.MAX_VALUE);
                norm += v[i] * (double) v[i];
            }
            norm = Math.sqrt(norm);
            if (norm > 0) {
                for (int i = 0; i < dims; i++) {
                    v[i] = (float) (v[i] / norm);
                }
            }
            return v;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final String[] CATEGORIES = {"harassment", "harassment/threatening", "hate", "hate/threatening",
        "illicit", "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
        "sexual/minors", "violence", "violence/graphic"};

    private static ObjectNode moderation(String model, JsonNode request) {
        JsonNode input = request.path("input");
        int n = input.isArray() && input.size() > 0 && input.get(0).isTextual() ? input.size() : 1;
        ObjectNode b = Json.object();
        b.put("id", "modr-" + Ids.alnum(24));
        b.put("model", model);
        ArrayNode results = b.putArray("results");
        for (int i = 0; i < n; i++) {
            ObjectNode r = results.addObject();
            r.put("flagged", false);
            ObjectNode cats = r.putObject("categories");
            ObjectNode scores = r.putObject("category_scores");
            ObjectNode types = r.putObject("category_applied_input_types");
            for (String c : CATEGORIES) {
                cats.put(c, false);
                scores.put(c, 1.0e-6);
                types.putArray(c).add("text");
            }
        }
        return b;
    }
}
