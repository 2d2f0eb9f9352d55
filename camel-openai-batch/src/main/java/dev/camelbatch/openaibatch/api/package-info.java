/**
 * A client for the OpenAI Files and Batch API (and Azure OpenAI's flavour of it), independent of Camel.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * OpenAIClientConfig config = OpenAIClientConfig.builder().apiKey(key).build();
 * try (OpenAIBatchClient client = new OpenAIBatchClient(config)) {
 *     OpenAIFile in = client.uploadFile(path, "requests.jsonl", "batch", null);
 *     Batch batch = client.createBatch(CreateBatchRequest.builder().inputFileId(in.getId())
 *             .endpoint("/v1/chat/completions").putMetadata("job", "42").build());
 *     // poll client.retrieveBatch(batch.getId()) until batch.isTerminal(), then
 *     try (InputStream out = client.downloadFileContent(done.getOutputFileId())) { ... }
 * }
 * }</pre>
 *
 * <h2>Errors and retries</h2>
 * <ul>
 * <li>{@link dev.camelbatch.openaibatch.api.OpenAIApiException}: the server answered with an error status
 * ({@link dev.camelbatch.openaibatch.api.OpenAIAuthenticationException} 401/403,
 * {@link dev.camelbatch.openaibatch.api.OpenAINotFoundException} 404,
 * {@link dev.camelbatch.openaibatch.api.OpenAIRateLimitException} 429). 408, 429 and 5xx are retried with the
 * {@link dev.camelbatch.openaibatch.api.RetryPolicy} (a {@code retry-after-ms} / {@code Retry-After} hint wins, capped
 * by {@code maxDelay}); other statuses are not.</li>
 * <li>{@link dev.camelbatch.openaibatch.api.OpenAIConnectionException}: an I/O failure, once retries are exhausted or
 * when it is not worth retrying (TLS certificate or host name problems).</li>
 * <li>{@link dev.camelbatch.openaibatch.api.BatchCreationOutcomeUnknownException}: {@code createBatch} may have
 * created the batch (timeout or reset after sending); it is never retried in that case: reconcile by listing batches
 * and matching the metadata.</li>
 * <li>{@link dev.camelbatch.openaibatch.api.TruncatedDownloadException}: thrown by the download stream when the body
 * ends early or the connection fails while streaming; download again.</li>
 * <li>{@link java.lang.IllegalArgumentException}: a file or batch id that is not letters, digits, {@code _} and
 * {@code -} only (such as {@code ..} or {@code a/b}), refused before any request is sent so that an id never changes
 * the path it goes into.</li>
 * </ul>
 *
 * <h2>Secrets</h2>
 * The API key is sent only in the {@code Authorization} (or Azure {@code api-key}) header. It is never logged, never
 * put in exception messages (any occurrence in a server's answer is masked) and never shown by {@code toString()}.
 * HttpClient's own {@code org.apache.hc.client5.http.headers} and {@code ...wire} DEBUG logs would print the raw
 * headers: the client's connections ({@code QuietConnectionFactory}) bypass the wire log and log the request headers
 * at DEBUG to {@code dev.camelbatch.openaibatch.api.headers} with credential headers masked.
 *
 * <h2>JSON</h2>
 * The DTOs use snake_case names, ignore unknown fields (kept in {@code getAdditionalProperties()} on
 * {@link dev.camelbatch.openaibatch.api.Batch} and {@link dev.camelbatch.openaibatch.api.OpenAIFile}) and tolerate
 * missing fields and nulls. {@link dev.camelbatch.openaibatch.api.OpenAIJson#mapper()} is the shared mapper;
 * {@link dev.camelbatch.openaibatch.api.BatchRequestLine} and
 * {@link dev.camelbatch.openaibatch.api.BatchOutputLine} read and write JSONL lines.
 */
package dev.camelbatch.openaibatch.api;
