package dev.camelbatch.openaibatch.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link OpenAIBatchClient} makes of a failure: an error response becomes an {@link OpenAIApiException} (the
 * OpenAI error object {@code {"error": {"message", "type", "param", "code"}}}, or whatever JSON or text a proxy or
 * another implementation answers, read up to {@value #MAX_ERROR_BODY_BYTES} bytes, with its {@code Retry-After}),
 * and a throwable becomes one line of text for logs and messages.
 */
final class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);
    static final int MAX_ERROR_BODY_BYTES = 64 * 1024;

    private ErrorResponses() {
    }

    /**
     * The exception for an error response.
     *
     * @param redact masks secrets in what the server echoed
     */
    static OpenAIApiException toException(ClassicHttpResponse response, int status, String requestId,
                                          ObjectMapper mapper, Clock clock, UnaryOperator<String> redact) {
        Duration retryAfter = RetryPolicy.parseRetryAfter(header(response, "retry-after-ms"),
                header(response, "Retry-After"), clock);
        String type = null;
        String code = null;
        String message = null;
        String param = null;
        String raw = null;
        try {
            raw = readLimited(response.getEntity());
        } catch (IOException e) {
            LOG.debug("could not read the error body of a {} response: {}", status, describe(e));
        }
        if (raw != null && !raw.isBlank()) {
            try {
                JsonNode root = mapper.readTree(raw);
                JsonNode err = root != null && root.path("error").isObject() ? root.get("error") : root;
                if (err != null && err.isObject()) {
                    message = text(err.get("message"));
                    type = text(err.get("type"));
                    code = text(err.get("code"));
                    param = text(err.get("param"));
                } else if (root != null && root.isTextual()) {
                    message = root.asText();
                }
                if (message == null && root != null && root.path("error").isTextual()) {
                    message = root.get("error").asText();
                }
            } catch (IOException | RuntimeException notJson) {
                message = snippet(raw);
            }
        }
        if (message == null || message.isBlank()) {
            message = response.getReasonPhrase() == null || response.getReasonPhrase().isBlank()
                    ? "HTTP " + status : response.getReasonPhrase();
        }
        return OpenAIApiException.of(status, redact.apply(type), redact.apply(code), redact.apply(message),
                redact.apply(param), requestId, retryAfter);
    }

    /** The type, code and request id of an API error, for a log line ({@code " type=… code=… request-id=…"}). */
    static String summary(OpenAIApiException e) {
        StringBuilder sb = new StringBuilder();
        if (e.getType() != null) {
            sb.append(" type=").append(e.getType());
        }
        if (e.getCode() != null) {
            sb.append(" code=").append(e.getCode());
        }
        if (e.getRequestId() != null) {
            sb.append(" request-id=").append(e.getRequestId());
        }
        return sb.toString();
    }

    /** A throwable as {@code SimpleName: message} (a JSON error without the location of the source). */
    static String describe(Throwable e) {
        String msg = e.getMessage();
        String name = e.getClass().getSimpleName();
        if (msg == null || msg.isBlank()) {
            return name;
        }
        if (e instanceof JsonProcessingException) {
            msg = ((JsonProcessingException) e).getOriginalMessage();
        }
        return name + ": " + msg;
    }

    static String header(ClassicHttpResponse response, String name) {
        Header h = response.getFirstHeader(name);
        return h == null ? null : h.getValue();
    }

    private static String text(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        return n.isValueNode() ? n.asText() : n.toString();
    }

    /** Text for a message: control characters folded, at most 300 characters. */
    static String snippet(String raw) {
        String s = raw.replaceAll("[\\p{Cntrl}&&[^\t]]+", " ").trim();
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }

    private static String readLimited(HttpEntity entity) throws IOException {
        if (entity == null) {
            return null;
        }
        try (InputStream in = entity.getContent()) {
            if (in == null) {
                return null;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while (out.size() < MAX_ERROR_BODY_BYTES && (n = in.read(buf)) != -1) {
                out.write(buf, 0, Math.min(n, MAX_ERROR_BODY_BYTES - out.size()));
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
