package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.entity.mime.FileBody;
import org.apache.hc.client5.http.entity.mime.HttpMultipartMode;
import org.apache.hc.client5.http.entity.mime.MultipartEntityBuilder;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.client5.http.ssl.HttpsSupport;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;
import org.apache.hc.client5.http.ssl.TrustAllStrategy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.net.URIBuilder;
import org.apache.hc.core5.ssl.SSLContextBuilder;
import org.apache.hc.core5.ssl.SSLContexts;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client for the OpenAI Files and Batch API (and the Azure OpenAI flavour of it), on Apache HttpClient 5 (classic,
 * blocking) and Jackson. Thread-safe; one instance holds a connection pool: share it and {@link #close()} it.
 * <p>
 * Errors: an error status becomes an {@link OpenAIApiException} (or a subclass); an I/O failure an
 * {@link OpenAIConnectionException}. Retryable failures (429, 408, 5xx, connection failures, resets, timeouts) are
 * retried according to the configured {@link RetryPolicy}; 4xx are not. {@link #createBatch(CreateBatchRequest)} and
 * {@link #uploadFile} are only retried when the request was certainly not processed; otherwise they throw an
 * {@link OutcomeUnknownException} (see there).
 * <p>
 * Neither log lines nor exception messages contain request headers or the API key.
 * <p>
 * Long because it is one method per call of the Files and Batch API plus the single retry loop they all share
 * ({@code execute}): the streams it returns ({@link DownloadInputStream}, {@link LimitedJsonBody},
 * {@link PageIterator}) and the reading of error responses ({@link ErrorResponses}) live in classes of their own.
 */
public class OpenAIBatchClient implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchClient.class);

    /**
     * The largest JSON answer read (a batch, a file, a page of a list are a few kilobytes): a bigger one is refused as
     * not the expected JSON, before it is read into memory.
     */
    public static final int MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;
    /**
     * The most pages a listing fetches: a server that answers {@code has_more=true} forever ends a listing with an
     * error after this many pages instead of keeping it going.
     */
    public static final int MAX_LIST_PAGES = 10_000;
    private static final ContentType JSON_UTF8 = ContentType.APPLICATION_JSON.withCharset(StandardCharsets.UTF_8);
    private static final ContentType UPLOAD_CONTENT_TYPE = ContentType.APPLICATION_OCTET_STREAM;

    private final OpenAIClientConfig config;
    private final RetryPolicy retryPolicy;
    private final ObjectMapper mapper = OpenAIJson.mapper();
    private final PoolingHttpClientConnectionManager connectionManager;
    private final CloseableHttpClient http;
    private final RetryTime time;
    /** {@link #MAX_LIST_PAGES}, lowered by tests. */
    private volatile int maxListPages = MAX_LIST_PAGES;

    /**
     * How a call may be retried. An idempotent call (reads, delete, cancel) is repeated after any retryable failure. A
     * call that changes state and would do so twice (upload, create) is repeated only when it certainly did not take
     * effect: the connection could not be made, or the service refused it with 429 or 408; when it may have taken
     * effect (sent without a usable answer, or a 5xx), an {@link OutcomeUnknownException} made by {@code unknown}
     * tells the caller to reconcile before sending it again.
     */
    private record Mode(boolean idempotent, UnknownOutcome unknown) {
        static final Mode IDEMPOTENT = new Mode(true, null);

        static Mode once(UnknownOutcome unknown) {
            return new Mode(false, unknown);
        }
    }

    @FunctionalInterface
    private interface UnknownOutcome {
        OutcomeUnknownException create(String message, Duration retryAfter, Throwable cause);
    }

    @FunctionalInterface
    private interface EntityFactory {
        HttpEntity create() throws IOException;
    }

    /**
     * The file part of an upload, streamed in 64 KB reads and writes: {@link FileBody} copies 4 KB at a time, which
     * for a batch file of 200 MB is some 50 000 file reads and as many socket writes; a write of 64 KB goes past the
     * connection's buffer straight to the socket.
     */
    private static final class BatchFileBody extends FileBody {

        BatchFileBody(java.io.File file, ContentType contentType, String filename) {
            super(file, contentType, filename);
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            Objects.requireNonNull(out, "out");
            try (InputStream in = Files.newInputStream(getFile().toPath())) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) != -1) {
                    out.write(buf, 0, n);
                }
                out.flush();
            }
        }
    }

    @FunctionalInterface
    private interface ResponseHandler<T> {
        T handle(ClassicHttpResponse response) throws IOException;
    }

    public OpenAIBatchClient(OpenAIClientConfig config) {
        this(config, RetryTime.SYSTEM);
    }

    /** With the time the retry loop reads and waits on (tests observe the waits instead of waiting). */
    OpenAIBatchClient(OpenAIClientConfig config, RetryTime time) {
        this.config = Objects.requireNonNull(config, "config");
        this.time = Objects.requireNonNull(time, "time");
        this.retryPolicy = config.getRetryPolicy();
        this.connectionManager = buildConnectionManager(config);
        HttpClientBuilder builder = HttpClients.custom()
                .setConnectionManager(connectionManager)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(timeout(config.getResponseTimeout()))
                        .setConnectionRequestTimeout(timeout(config.getConnectTimeout()))
                        // no redirects: a redirect to another host must never carry the key along
                        .setRedirectsEnabled(false)
                        .build())
                // this class retries by itself (with the outcome-unknown rule for batch creation)
                .disableAutomaticRetries()
                // bytes are counted against Content-Length for truncation detection: no transparent gzip
                .disableContentCompression()
                .disableCookieManagement()
                .disableAuthCaching()
                .evictIdleConnections(TimeValue.ofSeconds(30))
                .setUserAgent(config.getUserAgent());
        if (config.getProxyHost() != null) {
            builder.setProxy(new HttpHost(config.getProxyHost(), config.getProxyPort()));
        }
        this.http = builder.build();
    }

    private static PoolingHttpClientConnectionManager buildConnectionManager(OpenAIClientConfig config) {
        SSLContext sslContext;
        HostnameVerifier verifier;
        HostnameVerificationPolicy policy;
        if (config.isTrustAllCertificates()) {
            LOG.warn("TLS certificate and host name verification are DISABLED (trustAllCertificates=true)");
            try {
                sslContext = SSLContextBuilder.create().loadTrustMaterial(TrustAllStrategy.INSTANCE).build();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot create a trust-all SSL context", e);
            }
            verifier = NoopHostnameVerifier.INSTANCE;
            policy = HostnameVerificationPolicy.CLIENT;
        } else {
            sslContext = config.getSslContext() != null ? config.getSslContext() : SSLContexts.createSystemDefault();
            verifier = HttpsSupport.getDefaultHostnameVerifier();
            policy = HostnameVerificationPolicy.BOTH;
        }
        int max = config.getMaxConnections();
        return PoolingHttpClientConnectionManagerBuilder.create()
                // HttpClient's header and wire logs would print the key: these connections mask it
                .setConnectionFactory(new QuietConnectionFactory())
                .setTlsSocketStrategy(new DefaultClientTlsStrategy(sslContext, policy, verifier))
                .setMaxConnTotal(max)
                .setMaxConnPerRoute(max)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(timeout(config.getConnectTimeout()))
                        .setSocketTimeout(timeout(config.getResponseTimeout()))
                        // a pooled connection idle for more than 2 s is checked before reuse, so that a request is
                        // rarely written to a connection the server has already closed
                        .setValidateAfterInactivity(TimeValue.ofSeconds(2))
                        .build())
                .build();
    }

    private static Timeout timeout(Duration d) {
        return Timeout.ofMilliseconds(d.toMillis());
    }

    /** The configuration (its {@code toString()} masks the key). */
    public OpenAIClientConfig getConfig() {
        return config;
    }

    // ------------------------------------------------------------------------------------------------- Files

    /**
     * Uploads a file ({@code POST /files}, multipart/form-data). The body is streamed from the path, never held in
     * memory. Repeated from the file only when it certainly did not reach the service (no connection, 429, 408); when
     * it may have been stored (sent without a usable answer, or a 5xx) an {@link UploadOutcomeUnknownException} is
     * thrown, and the caller looks for the file by its name before uploading it again.
     *
     * @param jsonl               the file to upload
     * @param filename            the file name to announce, or {@code null} for the path's file name
     * @param purpose             e.g. {@code batch}
     * @param expiresAfterSeconds when not {@code null}, sends {@code expires_after[anchor]=created_at} and
     *                            {@code expires_after[seconds]} (the API accepts 3600..2592000)
     */
    public OpenAIFile uploadFile(Path jsonl, String filename, String purpose, Long expiresAfterSeconds) {
        Objects.requireNonNull(jsonl, "jsonl");
        requireText(purpose, "purpose");
        if (!Files.isRegularFile(jsonl)) {
            throw new UncheckedIOException(new NoSuchFileException(jsonl.toString(), null, "not a regular file"));
        }
        if (!Files.isReadable(jsonl)) {
            throw new UncheckedIOException(new IOException("file is not readable: " + jsonl));
        }
        String name = safeFilename(filename != null && !filename.isBlank() ? filename : jsonl.getFileName().toString());
        EntityFactory body = () -> {
            // browser-like form: no Content-Type on the text fields, a UTF-8 file name, a plain
            // "multipart/form-data; boundary=..." header, and a known Content-Length (the parts have known sizes)
            MultipartEntityBuilder mb = MultipartEntityBuilder.create()
                    .setMode(HttpMultipartMode.LEGACY)
                    .setCharset(StandardCharsets.UTF_8)
                    .setContentType(ContentType.create("multipart/form-data"))
                    .addTextBody("purpose", purpose, ContentType.TEXT_PLAIN.withCharset(StandardCharsets.UTF_8));
            if (expiresAfterSeconds != null) {
                mb.addTextBody("expires_after[anchor]", FileExpirationAfter.ANCHOR_CREATED_AT,
                        ContentType.TEXT_PLAIN.withCharset(StandardCharsets.UTF_8));
                mb.addTextBody("expires_after[seconds]", String.valueOf(expiresAfterSeconds),
                        ContentType.TEXT_PLAIN.withCharset(StandardCharsets.UTF_8));
            }
            mb.addPart("file", new BatchFileBody(jsonl.toFile(), UPLOAD_CONTENT_TYPE, name));
            return mb.build();
        };
        return execute("POST", "/files", null, body,
                Mode.once((message, retryAfter, cause) -> new UploadOutcomeUnknownException(message
                        + "; the file may have been stored: look for '" + name + "' before uploading it again", name,
                        retryAfter, cause)),
                jsonHandler(OpenAIFile.class), false);
    }

    /** {@code GET /files/{id}}. */
    public OpenAIFile retrieveFile(String fileId) {
        return execute("GET", "/files/" + segment(fileId, "fileId"), null, null, Mode.IDEMPOTENT,
                jsonHandler(OpenAIFile.class), false);
    }

    /**
     * {@code GET /files}: one page.
     *
     * @param purpose only files of this purpose, or {@code null}
     * @param after   cursor (a file id), or {@code null} for the first page
     * @param limit   page size (1..10000), or {@code null} for the server default
     * @param order   {@code asc} or {@code desc} (by created_at), or {@code null} for the server default (desc)
     */
    public FileList listFiles(String purpose, String after, Integer limit, String order) {
        List<String[]> query = new ArrayList<>();
        addParam(query, "purpose", purpose);
        addParam(query, "after", after);
        addParam(query, "limit", limit == null ? null : String.valueOf(limit));
        addParam(query, "order", order);
        return execute("GET", "/files", query, null, Mode.IDEMPOTENT, jsonHandler(FileList.class), false);
    }

    /** All files, page after page, fetched lazily (server default page size). */
    public Iterator<OpenAIFile> iterateFiles(String purpose, String order) {
        return iterateFiles(purpose, order, null);
    }

    /** All files, page after page of {@code pageSize} (or the server default when {@code null}), fetched lazily. */
    public Iterator<OpenAIFile> iterateFiles(String purpose, String order, Integer pageSize) {
        return new PageIterator<>("GET /files", maxListPages, after -> {
            FileList page = listFiles(purpose, after, pageSize, order);
            return new PageIterator.Page<>(page.getData(), page.hasMore(), page.nextCursor());
        });
    }

    /** {@code DELETE /files/{id}}. */
    public FileDeleted deleteFile(String fileId) {
        return execute("DELETE", "/files/" + segment(fileId, "fileId"), null, null, Mode.IDEMPOTENT,
                jsonHandler(FileDeleted.class), false);
    }

    /**
     * {@code GET /files/{id}/content}: a stream over the response body. The caller must close it; closing it before
     * the end aborts the connection (nothing more is read). Failures before the body starts (429, 5xx, connection
     * errors) are retried; once the body streams, a failure is reported by {@code read} as a
     * {@link TruncatedDownloadException} (also when the body is shorter or longer than its Content-Length), and the
     * caller may call this method again.
     */
    public InputStream downloadFileContent(String fileId) {
        String path = "/files/" + segment(fileId, "fileId") + "/content";
        return execute("GET", path, null, null, Mode.IDEMPOTENT,
                response -> new DownloadInputStream(response, path), true);
    }

    // ----------------------------------------------------------------------------------------------- Batches

    /**
     * {@code POST /batches}. The request is {@linkplain CreateBatchRequest#validate() validated} first
     * ({@link IllegalArgumentException} on bad metadata).
     * <p>
     * Retried only when the request was certainly not processed: the connection could not be made, or the server
     * answered 429 or 408. When the request may have been processed but no usable answer came (timeout, reset, a
     * 5xx, an unreadable 2xx body), it is not retried: a {@link BatchCreationOutcomeUnknownException} carrying the
     * request is thrown, and the caller reconciles (e.g. lists batches and matches metadata).
     */
    public Batch createBatch(CreateBatchRequest request) {
        Objects.requireNonNull(request, "request");
        request.validate();
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(request);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialize the batch request", e);
        }
        EntityFactory body = () -> new ByteArrayEntity(json, JSON_UTF8);
        return execute("POST", "/batches", null, body,
                Mode.once((message, retryAfter, cause) -> new BatchCreationOutcomeUnknownException(message
                        + "; the batch may have been created, reconcile before creating it again", request,
                        retryAfter, cause)),
                jsonHandler(Batch.class), false);
    }

    /** {@code GET /batches/{id}}. */
    public Batch retrieveBatch(String batchId) {
        return execute("GET", "/batches/" + segment(batchId, "batchId"), null, null, Mode.IDEMPOTENT,
                jsonHandler(Batch.class), false);
    }

    /**
     * {@code GET /batches}: one page, newest first.
     *
     * @param after cursor (a batch id), or {@code null} for the first page
     * @param limit page size (1..100), or {@code null} for the server default (20)
     */
    public BatchList listBatches(String after, Integer limit) {
        List<String[]> query = new ArrayList<>();
        addParam(query, "after", after);
        addParam(query, "limit", limit == null ? null : String.valueOf(limit));
        return execute("GET", "/batches", query, null, Mode.IDEMPOTENT, jsonHandler(BatchList.class), false);
    }

    /** All batches, newest first, page after page of {@code pageSize} (server default when {@code null}), lazily. */
    public Iterator<Batch> iterateBatches(Integer pageSize) {
        return new PageIterator<>("GET /batches", maxListPages, after -> {
            BatchList page = listBatches(after, pageSize);
            return new PageIterator.Page<>(page.getData(), page.hasMore(), page.nextCursor());
        });
    }

    /**
     * {@code POST /batches/{id}/cancel}. Cancelling is idempotent, so it is retried like a read. Returns the batch,
     * usually in status {@code cancelling}.
     */
    public Batch cancelBatch(String batchId) {
        return execute("POST", "/batches/" + segment(batchId, "batchId") + "/cancel", null, null, Mode.IDEMPOTENT,
                jsonHandler(Batch.class), false);
    }

    // ----------------------------------------------------------------------------------------------- Azure

    /**
     * The {@code endpoint} value (and JSONL {@code url}) to use with Azure OpenAI for an OpenAI-style endpoint.
     * <p>
     * Rule: Azure's classic data-plane API, addressed with a dated {@code api-version} (e.g. {@code 2024-10-21} or
     * {@code 2025-04-01-preview}), names endpoints without the {@code /v1} prefix: {@code /v1/chat/completions}
     * becomes {@code /chat/completions}. Azure's v1 API (base URL {@code .../openai/v1}, no api-version, or the
     * values {@code v1}, {@code latest}, {@code preview}) uses the OpenAI form, so the endpoint is kept with
     * {@code /v1}. An endpoint given without {@code /v1} is prefixed accordingly.
     *
     * @param endpoint   e.g. {@code /v1/chat/completions} or {@code /chat/completions}
     * @param apiVersion the configured {@code api-version}, or {@code null}
     */
    public static String azureEndpointValue(String endpoint, String apiVersion) {
        requireText(endpoint, "endpoint");
        String e = endpoint.trim();
        if (!e.startsWith("/")) {
            e = "/" + e;
        }
        String withoutV1 = e.startsWith("/v1/") ? e.substring(3) : e;
        String v = apiVersion == null ? "" : apiVersion.trim().toLowerCase(Locale.ROOT);
        boolean v1Api = v.isEmpty() || v.equals("v1") || v.equals("latest") || v.equals("preview");
        return v1Api ? "/v1" + withoutV1 : withoutV1;
    }

    // ----------------------------------------------------------------------------------------------- core

    private <T> ResponseHandler<T> jsonHandler(Class<T> type) {
        return response -> {
            HttpEntity entity = response.getEntity();
            if (entity == null) {
                throw new JsonProcessingException("empty response body") {
                    private static final long serialVersionUID = 1L;
                };
            }
            if (entity.getContentLength() > MAX_JSON_BODY_BYTES) {
                // refused before reading; a body without Content-Length stops at the limit while it is parsed
                throw new LimitedJsonBody.BodyTooLargeException("the response body of " + entity.getContentLength()
                        + " bytes exceeds the limit of " + MAX_JSON_BODY_BYTES + " bytes for a JSON answer");
            }
            try (InputStream in = new LimitedJsonBody(response, entity.getContent())) {
                T value = mapper.readValue(in, type);
                if (value == null) {
                    throw new JsonProcessingException("null response body") {
                        private static final long serialVersionUID = 1L;
                    };
                }
                return value;
            }
        };
    }

    private <T> T execute(String method, String path, List<String[]> query, EntityFactory body, Mode mode,
                          ResponseHandler<T> handler, boolean streaming) {
        URI uri = buildUri(path, query);
        String target = method + " " + path + (query == null || query.isEmpty() ? "" : "?" + uri.getRawQuery());
        long start = time.nanoTime();
        int attempt = 0;
        while (true) {
            attempt++;
            if (Thread.currentThread().isInterrupted()) {
                throw new OpenAIConnectionException(target + " interrupted", new InterruptedIOException());
            }
            HttpUriRequestBase request = new HttpUriRequestBase(method, uri);
            applyHeaders(request);
            try {
                if (body != null) {
                    request.setEntity(body.create());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare the body of " + target, e);
            }
            long t0 = System.nanoTime();
            CloseableHttpResponse response;
            try {
                response = doExecute(request);
            } catch (IOException e) {
                long ms = millisSince(t0);
                String what = ErrorResponses.describe(e);
                boolean notSent = definitelyNotSent(e);
                if (!mode.idempotent() && !notSent) {
                    LOG.warn("{} failed after {} ms, outcome unknown (request may have been processed): {}; "
                            + "not retrying", target, ms, what);
                    throw mode.unknown().create(target + ": outcome unknown after " + what, null, e);
                }
                LOG.debug("{} -> I/O failure after {} ms (attempt {}): {}", target, ms, attempt, what);
                if (isRetryableIo(e) && sleepBeforeRetry(target, attempt, start, null, what)) {
                    continue;
                }
                throw new OpenAIConnectionException(target + " failed after " + attempt + " attempt(s): " + what, e);
            }
            int status = response.getCode();
            String requestId = redact(ErrorResponses.header(response, "x-request-id"));
            if (status >= 200 && status < 300) {
                boolean keepOpen = false;
                try {
                    T result = handler.handle(response);
                    LOG.debug("{} -> {} in {} ms (attempt {}, request-id {})", target, status, millisSince(t0),
                            attempt, requestId);
                    keepOpen = streaming;
                    return result;
                } catch (IOException e) {
                    String what = ErrorResponses.describe(e);
                    if (!mode.idempotent()) {
                        LOG.warn("{} -> {} but the body could not be read ({}), request-id {}; outcome unknown, "
                                + "not retrying", target, status, what, requestId);
                        throw mode.unknown().create(target + " answered " + status + " but the body could not be"
                                + " read (" + what + "), request-id " + requestId, null, e);
                    }
                    if (e instanceof JsonProcessingException) {
                        throw new OpenAIConnectionException(target + " answered " + status
                                + " with a body that is not the expected JSON (request-id " + requestId + "): "
                                + what, e);
                    }
                    if (isRetryableIo(e) && sleepBeforeRetry(target, attempt, start, null, what)) {
                        continue;
                    }
                    throw new OpenAIConnectionException(target + " failed while reading the response after "
                            + attempt + " attempt(s): " + what, e);
                } finally {
                    if (!keepOpen) {
                        closeQuietly(response, !streaming);
                    }
                }
            }
            OpenAIApiException error;
            try {
                error = ErrorResponses.toException(response, status, requestId, mapper, time.wallClock(),
                        this::redact);
            } finally {
                closeQuietly(response, true);
            }
            LOG.debug("{} -> {} in {} ms (attempt {}, request-id {})", target, status, millisSince(t0), attempt,
                    requestId);
            String summary = ErrorResponses.summary(error);
            if (!mode.idempotent() && status >= 500) {
                // a server error may come after the call took effect
                LOG.warn("{} -> {}{}; outcome unknown, not retrying", target, status, summary);
                throw mode.unknown().create(target + " answered " + status + summary, error.getRetryAfter(), error);
            }
            if (error.isRetryable() && sleepBeforeRetry(target, attempt, start, error.getRetryAfter(),
                    "HTTP " + status + summary)) {
                continue;
            }
            throw error;
        }
    }

    /** Executes the request on the pooled HttpClient. */
    @SuppressWarnings("deprecation")
    private CloseableHttpResponse doExecute(HttpUriRequestBase request) throws IOException {
        return http.execute(request, HttpClientContext.create());
    }

    private boolean sleepBeforeRetry(String target, int attempt, long startNanos, Duration hint, String reason) {
        Duration delay = retryPolicy.delayFor(attempt, hint);
        Duration elapsed = Duration.ofNanos(time.nanoTime() - startNanos);
        if (!retryPolicy.allowsRetry(attempt, elapsed, delay)) {
            if (retryPolicy.getMaxAttempts() > 1) {
                LOG.warn("{} failed ({}); giving up after {} attempt(s) in {} ms", target, reason, attempt,
                        elapsed.toMillis());
            }
            return false;
        }
        LOG.warn("{} failed ({}); retrying in {} ms{} (attempt {} of {})", target, reason, delay.toMillis(),
                hint != null ? " as the server asked" : "", attempt + 1, retryPolicy.getMaxAttempts());
        try {
            time.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OpenAIConnectionException(target + " interrupted while waiting to retry",
                    new InterruptedIOException("interrupted"));
        }
        return true;
    }

    /** Whether an I/O failure happened before the request could reach the server. */
    static boolean definitelyNotSent(IOException e) {
        return e instanceof ConnectException // includes HttpHostConnectException (refused)
                || e instanceof ConnectTimeoutException
                || e instanceof UnknownHostException
                || e instanceof NoRouteToHostException
                || e instanceof ConnectionRequestTimeoutException // no pooled connection obtained
                || e instanceof SSLHandshakeException;
    }

    static boolean isRetryableIo(IOException e) {
        if (Thread.currentThread().isInterrupted()) {
            return false;
        }
        if (e instanceof SSLPeerUnverifiedException) {
            return false;
        }
        if (e instanceof SSLHandshakeException) {
            // a certificate problem does not go away by retrying; a handshake cut short may
            for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                if (t instanceof CertificateException || t instanceof GeneralSecurityException) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Masks any occurrence of the API key (defence in depth: a server should never echo it). */
    String redact(String s) {
        String key = config.getApiKey();
        if (s == null || key == null || key.length() < 4) {
            return s;
        }
        return s.replace(key, "****");
    }

    private void applyHeaders(HttpUriRequestBase request) {
        if (config.hasApiKey()) {
            if (config.isAzure()) {
                request.setHeader("api-key", config.getApiKey());
            } else {
                request.setHeader("Authorization", "Bearer " + config.getApiKey());
            }
        }
        if (config.getOrganization() != null) {
            request.setHeader("OpenAI-Organization", config.getOrganization());
        }
        if (config.getProject() != null) {
            request.setHeader("OpenAI-Project", config.getProject());
        }
        request.setHeader("Accept", "application/json");
        request.setHeader("User-Agent", config.getUserAgent());
    }

    private URI buildUri(String path, List<String[]> query) {
        try {
            URIBuilder b = new URIBuilder(config.getBaseUrl() + path);
            if (query != null) {
                for (String[] p : query) {
                    b.addParameter(p[0], p[1]);
                }
            }
            if (config.isAzure() && config.getAzureApiVersion() != null) {
                b.addParameter("api-version", config.getAzureApiVersion());
            }
            return b.build();
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid URL for " + path + ": " + e.getMessage(), e);
        }
    }

    private static void addParam(List<String[]> query, String name, String value) {
        if (value != null && !value.isEmpty()) {
            query.add(new String[] {name, value});
        }
    }

    /**
     * A file or batch id as a path segment. Ids come from the server (or from a message header) and must not change
     * the path they are put into: only letters, digits, {@code _} and {@code -} are accepted (OpenAI's
     * {@code file-abc123} and {@code batch_abc123}, Azure's {@code file-} and {@code batch_} ids with a GUID), so
     * {@code ..}, {@code /} and encoded forms of them never reach a request.
     */
    private static String segment(String id, String name) {
        String trimmed = id == null ? null : id.trim();
        if (!isValidId(trimmed)) {
            throw new IllegalArgumentException(name + " must be a non-empty id of letters, digits, '_' and '-', was "
                    + (id == null ? "null" : "'" + ErrorResponses.snippet(id) + "'"));
        }
        return trimmed;
    }

    /** Whether {@code id} is a well-formed file or batch id: letters, digits, {@code _} and {@code -} only. */
    public static boolean isValidId(String id) {
        if (id == null || id.isEmpty()) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** A file name that cannot break the Content-Disposition header. */
    static String safeFilename(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            sb.append(c == '"' || c == '\\' || Character.isISOControl(c) ? '_' : c);
        }
        return sb.toString();
    }

    private static void requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000L;
    }

    static void closeQuietly(CloseableHttpResponse response, boolean graceful) {
        try {
            if (graceful) {
                response.close();
            } else {
                response.close(CloseMode.IMMEDIATE);
            }
        } catch (IOException | RuntimeException e) {
            LOG.trace("ignored failure while closing a response", e);
        }
    }

    /** Lowers the page limit of listings (tests). */
    void maxListPages(int pages) {
        this.maxListPages = pages;
    }

    /** Closes the connection pool. */
    @Override
    public void close() {
        try {
            http.close(CloseMode.GRACEFUL);
        } catch (RuntimeException e) {
            LOG.debug("failure while closing the HTTP client", e);
        }
        connectionManager.close(CloseMode.GRACEFUL);
    }

    @Override
    public String toString() {
        return "OpenAIBatchClient{" + config + '}';
    }
}
