package dev.camelbatch.openaibatch.simulator;

/**
 * One request line that a batch executed (a line cancelled or expired before it ran is not an execution).
 *
 * @param batchId    the batch that executed it
 * @param customId   the line's {@code custom_id}
 * @param statusCode the HTTP status of its response ({@code 200} when it succeeded), or {@code null} for a line that
 *                   ended with an error and no response
 * @param errorCode  the {@code error.code} of a line without a response (e.g. {@code request_timeout}), else
 *                   {@code null}
 */
public record Execution(String batchId, String customId, Integer statusCode, String errorCode) {

    /** Whether the request succeeded (status 200). */
    public boolean succeeded() {
        return statusCode != null && statusCode == 200;
    }
}
