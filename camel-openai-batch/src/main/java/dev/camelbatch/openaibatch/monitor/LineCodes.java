package dev.camelbatch.openaibatch.monitor;

import java.util.Set;

/**
 * The code of an emitted line as a metric tag value, from a bounded set: an output line's error code is written by the
 * server, and a tag value per distinct code would let a server create any number of meters. Known codes pass: those
 * of OpenAI's (and Azure OpenAI's) API and batch errors, the error types OpenAI falls back to, the codes the component
 * gives lines itself, and HTTP statuses ({@code 100}..{@code 599}, also as {@code http_NNN}). Anything else is
 * {@value #OTHER}.
 */
final class LineCodes {

    /** The tag value of every code that is not known. */
    static final String OTHER = "other";

    private static final Set<String> KNOWN = Set.of(
            // given by the component (failed batches, lines it could not read or match)
            "error", "batch_failed", "missing_output_line", "unparsable_output_line", "invalid_request_line",
            // batch line errors
            "batch_expired", "batch_cancelled", "request_timeout",
            // quota and rate limits
            "rate_limit_exceeded", "insufficient_quota", "token_limit_exceeded", "request_limit_exceeded",
            "enqueued_token_limit_exceeded", "billing_hard_limit_reached", "billing_not_active",
            // server side
            "server_error", "internal_error", "model_overloaded", "engine_overloaded",
            // requests refused
            "invalid_api_key", "model_not_found", "unsupported_model", "invalid_model", "DeploymentNotFound",
            "context_length_exceeded", "string_above_max_length", "array_above_max_length",
            "integer_above_max_value", "integer_below_min_value", "decimal_above_max_value",
            "decimal_below_min_value", "empty_array", "invalid_value", "invalid_type", "invalid_prompt",
            "invalid_image", "invalid_image_format", "image_parse_error", "missing_required_parameter",
            "unknown_parameter", "unsupported_parameter", "unsupported_value", "content_filter",
            "content_policy_violation", "ResponsibleAIPolicyViolation",
            // error types (a line's error without a code)
            "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
            "rate_limit_error", "api_error", "tokens_exceeded_error");

    private LineCodes() {
    }

    /** {@code code} when it is known (or an HTTP status), else {@value #OTHER}. */
    static String tag(String code) {
        if (code == null) {
            return OTHER;
        }
        if (KNOWN.contains(code) || isStatus(code, 0) || code.startsWith("http_") && isStatus(code, 5)) {
            return code;
        }
        return OTHER;
    }

    /** Whether {@code code} from {@code start} on is an HTTP status, 100..599. */
    private static boolean isStatus(String code, int start) {
        if (code.length() != start + 3) {
            return false;
        }
        char first = code.charAt(start);
        char second = code.charAt(start + 1);
        char third = code.charAt(start + 2);
        return first >= '1' && first <= '5' && second >= '0' && second <= '9' && third >= '0' && third <= '9';
    }
}
