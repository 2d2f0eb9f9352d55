package dev.camelbatch.openaibatch.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Validates a batch input file by streaming it line by line (only the custom ids are kept, for the duplicate check).
 * The error codes are documented on {@link BatchSimulator}.
 */
final class InputValidator {

    /** Longest line accepted; longer lines are reported as {@code invalid_json_line}. */
    static final int MAX_LINE_BYTES = 16 * 1024 * 1024;
    /** At most this many errors are reported per batch. */
    static final int MAX_ERRORS = 1000;

    private InputValidator() {
    }

    static final class Result {
        final List<ObjectNode> errors = new ArrayList<>();
        String model;
        int requests;
        long estimatedTokens;

        boolean ok() {
            return errors.isEmpty();
        }
    }

    static ObjectNode error(String code, String message, String param, Long line) {
        ObjectNode e = Json.object();
        e.put("code", code);
        e.put("message", message);
        Json.putString(e, "param", param);
        Json.putLong(e, "line", line);
        return e;
    }

    /**
     * @param endpoint the batch endpoint as given at creation
     * @param azure whether endpoint and url may differ by a leading {@code /v1}
     */
    static Result validate(Path file, String endpoint, boolean azure, int maxRequests) throws IOException {
        Result r = new Result();
        Set<String> customIds = new HashSet<>();
        String expectedUrl = azure ? stripV1(endpoint) : endpoint;
        try (JsonlReader reader = new JsonlReader(file, MAX_LINE_BYTES)) {
            String text;
            while ((text = reader.next()) != null) {
                long lineNo = reader.lineNumber();
                r.requests++;
                if (r.requests > maxRequests) {
                    continue; // only counting from here on; the batch fails with too_many_requests anyway
                }
                if (reader.tooLong()) {
                    add(r, error("invalid_json_line", "This line is longer than " + MAX_LINE_BYTES
                            + " bytes and could not be parsed as JSON.", null, lineNo));
                    continue;
                }
                JsonNode line;
                try {
                    line = Json.MAPPER.readTree(text);
                } catch (IOException e) {
                    line = null;
                }
                if (line == null || !line.isObject()) {
                    add(r, error("invalid_json_line", "This line is not parseable as valid JSON.", null, lineNo));
                    continue;
                }
                String problem = null;
                for (String field : new String[] {"custom_id", "method", "url", "body"}) {
                    JsonNode v = line.get(field);
                    if (v == null || v.isNull()) {
                        add(r, error("missing_required_parameter", "Missing required parameter: '" + field + "'.",
                                field, lineNo));
                        problem = field;
                        break;
                    }
                }
                if (problem != null) {
                    continue;
                }
                JsonNode customId = line.get("custom_id");
                JsonNode body = line.get("body");
                if (!customId.isTextual()) {
                    add(r, error("invalid_request", "The 'custom_id' must be a string.", "custom_id", lineNo));
                    continue;
                }
                if (!body.isObject()) {
                    add(r, error("invalid_request", "The 'body' must be a JSON object.", "body", lineNo));
                    continue;
                }
                String method = line.get("method").asText();
                if (!"POST".equals(method)) {
                    add(r, error("invalid_method", "The method '" + method
                            + "' is not supported for batch requests; only 'POST' is supported.", "method", lineNo));
                    continue;
                }
                String url = line.get("url").asText();
                if (!expectedUrl.equals(azure ? stripV1(url) : url)) {
                    add(r, error("invalid_url", "The URL '" + url + "' does not match the batch endpoint '" + endpoint
                            + "'. All requests in a batch must use the batch's endpoint.", "url", lineNo));
                    continue;
                }
                JsonNode model = body.get("model");
                if (model == null || !model.isTextual() || model.textValue().isEmpty()) {
                    add(r, error("missing_model", "Missing required parameter: 'body.model'.", "body.model", lineNo));
                    continue;
                }
                if (body.path("stream").asBoolean(false)) {
                    add(r, error("invalid_request", "Streaming is not supported in the Batch API: 'body.stream' must not be true.",
                            "body.stream", lineNo));
                    continue;
                }
                if (!customIds.add(customId.textValue())) {
                    add(r, error("duplicate_custom_id", "The custom_id '" + customId.textValue()
                            + "' is used by more than one request; custom_id values must be unique within a batch.",
                            "custom_id", lineNo));
                    continue;
                }
                if (r.model == null) {
                    r.model = model.textValue();
                } else if (!r.model.equals(model.textValue())) {
                    add(r, error("mismatched_model", "All requests in a batch must use the same model: this line uses '"
                            + model.textValue() + "' but the batch uses '" + r.model + "'.", "body.model", lineNo));
                    continue;
                }
                r.estimatedTokens += MockModel.promptTokens(body);
            }
        }
        if (r.requests > maxRequests) {
            add(r, error("too_many_requests", "The batch input file contains " + r.requests
                    + " requests; a batch can contain at most " + maxRequests + " requests.", null, null));
        } else if (r.requests == 0) {
            add(r, error("empty_file", "The batch input file contains no requests.", null, null));
        }
        return r;
    }

    private static void add(Result r, ObjectNode error) {
        if (r.errors.size() < MAX_ERRORS) {
            r.errors.add(error);
        } else if (error.path("line").isNull()) {
            r.errors.set(MAX_ERRORS - 1, error); // file-level errors always make it into the list
        }
    }

    static String stripV1(String path) {
        return path.startsWith("/v1/") ? path.substring(3) : path;
    }
}
