package dev.camelbatch.openaibatch;

import java.util.Map;
import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.store.SegmentLimits;
import dev.camelbatch.openaibatch.engine.store.SyncPolicy;
import dev.camelbatch.openaibatch.engine.store.jdbc.JdbcBatchStore;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriParams;
import org.apache.camel.support.jsse.SSLContextParameters;

/**
 * Options of the openai-batch component and its endpoints (component values are the endpoints' defaults).
 * <p>
 * Long by nature: one annotated field, getter and setter per option, which camel-package-maven-plugin reads to make
 * the catalog, the configurers and the component reference.
 */
@UriParams
public class OpenAIBatchConfiguration implements Cloneable {

    // ---------------------------------------------------------------- connection
    @UriParam(label = "security", secret = true,
              description = "The OpenAI API key. Falls back to the OPENAI_API_KEY environment variable.")
    private String apiKey;
    @UriParam(label = "common", description = "The base URL of the API. Falls back to the OPENAI_BASE_URL environment"
                                              + " variable, then https://api.openai.com/v1.")
    private String baseUrl;
    @UriParam(label = "common", description = "The OpenAI organization id (OpenAI-Organization header).")
    private String organization;
    @UriParam(label = "common", description = "The OpenAI project id (OpenAI-Project header).")
    private String project;
    @UriParam(label = "common,provider", defaultValue = "false",
              description = "Azure OpenAI mode: api-key header, api-version query parameter, baseUrl like"
                            + " https://RESOURCE.openai.azure.com/openai.")
    private boolean azure;
    @UriParam(label = "common,provider", defaultValue = "2024-10-21",
              description = "The Azure OpenAI api-version (Azure mode only).")
    private String azureApiVersion = "2024-10-21";
    @UriParam(label = "advanced", defaultValue = "10000", description = "Connect timeout in milliseconds.")
    private long connectTimeout = 10_000;
    @UriParam(label = "advanced", defaultValue = "120000",
              description = "Response timeout in milliseconds (per call; uploads and downloads stream).")
    private long responseTimeout = 120_000;
    @UriParam(label = "advanced", defaultValue = "6",
              description = "Attempts per API call for 429, 5xx and connection failures (backoff honours Retry-After).")
    private int maxRetries = 6;
    @UriParam(label = "advanced", defaultValue = "20", description = "Connections in the HTTP pool.")
    private int maxConnections = 20;
    @UriParam(label = "proxy", description = "Proxy host.")
    private String proxyHost;
    @UriParam(label = "proxy", description = "Proxy port.")
    private Integer proxyPort;
    @UriParam(label = "security", description = "TLS configuration (trust store, key store, protocols).")
    private SSLContextParameters sslContextParameters;
    @UriParam(label = "security", defaultValue = "false",
              description = "Disables TLS certificate and hostname verification. For tests against self-signed"
                            + " servers only.")
    private boolean trustAllCertificates;

    // ---------------------------------------------------------------- store
    @UriParam(label = "common", description = "Directory of the embedded file store; each endpoint name uses a"
                                              + " subdirectory. Default: ${user.home}/.camel-openai-batch.")
    private String storeDirectory;
    @UriParam(label = "common", defaultValue = "INTERVAL", enums = "ALWAYS,INTERVAL,NEVER",
              description = "When spooled requests are forced to disk: ALWAYS (fsync before the producer returns,"
                            + " shared by concurrent producers), INTERVAL (every syncInterval) or NEVER. A request"
                            + " is in the operating system when the producer returns in every case.")
    private SyncPolicy syncPolicy = SyncPolicy.INTERVAL;
    @UriParam(label = "advanced", defaultValue = "1000", description = "Milliseconds between fsyncs with"
                                                                       + " syncPolicy=INTERVAL.")
    private long syncInterval = 1000;
    @UriParam(label = "advanced", defaultValue = "true",
              description = "On Linux, the file store writes the requests of open batches through memory mappings:"
                            + " no system call per request (an acknowledged request survives a killed JVM either"
                            + " way). Set false on copy-on-write file systems (btrfs, ZFS), where a full disk could"
                            + " fault a later write instead of failing the request that meets it. Other systems"
                            + " always write with one call per request.")
    private boolean spoolMapped = true;
    @UriParam(label = "common", description = "A javax.sql.DataSource (#myDataSource; pooled or not: the store keeps"
                                              + " its own connections) whose database holds the store instead of"
                                              + " storeDirectory: PostgreSQL (or H2), shared by several nodes, each"
                                              + " segment driven by the node that holds its lease. Tables are"
                                              + " created when missing (tablePrefix); with"
                                              + " PostgreSQL, syncPolicy ALWAYS commits spooled requests"
                                              + " synchronously, INTERVAL and NEVER with synchronous_commit=off."
                                              + " storeDirectory then holds only temporary files.")
    private DataSource dataSource;
    @UriParam(label = "common", defaultValue = JdbcBatchStore.DEFAULT_TABLE_PREFIX,
              description = "Prefix of the JDBC store's tables (segments, requests, history), optionally with a"
                            + " schema: myschema.openai_batch_.")
    private String tablePrefix = JdbcBatchStore.DEFAULT_TABLE_PREFIX;
    @UriParam(label = "consumer,advanced",
              description = "The id of this node in the leases of the JDBC store; unique per node (default: host"
                            + " name, process id and a random part; the host name is the pod name on Kubernetes).")
    private String nodeId;
    @UriParam(label = "consumer,advanced", defaultValue = "60000",
              description = "How long (milliseconds) a node's lease on a segment lasts unless renewed (JDBC store;"
                            + " renewed every quarter of it). When a node dies, the others take its segments over"
                            + " after at most this long, from the last checkpoint.")
    private long leaseDuration = 60_000;

    // ---------------------------------------------------------------- producer: requests
    @UriParam(label = "producer", defaultValue = "/v1/chat/completions",
              enums = "/v1/chat/completions,/v1/responses,/v1/embeddings,/v1/completions,/v1/moderations",
              description = "The batch endpoint the requests go to.")
    private String endpoint = "/v1/chat/completions";
    @UriParam(label = "producer", description = "The model, used when the request body has none. One batch holds one"
                                                + " model; requests of different models go to different batches.")
    private String model;
    @UriParam(label = "producer", description = "A system message put before the user message of prompt requests"
                                                + " (chat), or the instructions (responses).")
    private String systemMessage;
    @UriParam(label = "producer", prefix = "body.", multiValue = true,
              description = "Default body parameters that every request inherits unless its body sets them, e.g."
                            + " body.temperature=0&body.max_tokens=64. Values are parsed as JSON when they are"
                            + " JSON (numbers, booleans, objects), else taken as strings.")
    private Map<String, Object> bodyParameters;
    @UriParam(label = "producer", description = "Headers stored beside each request (never sent to OpenAI) and"
                                                + " restored on its result exchange: comma-separated names or"
                                                + " patterns (ticketId,CamelFileName,Review*). Values must be"
                                                + " strings, numbers or booleans.")
    private String carryHeaders;
    @UriParam(label = "producer", defaultValue = "50000",
              description = "Seal a batch at this many requests (hard cap 50000).")
    private int maxRequestsPerBatch = SegmentLimits.HARD_MAX_REQUESTS;
    @UriParam(label = "producer", defaultValue = "199229440",
              description = "Seal a batch before its file exceeds this many bytes (default 190 MB; hard cap 200 MB).")
    private long maxBatchBytes = SegmentLimits.DEFAULT_MAX_BYTES;
    @UriParam(label = "producer", defaultValue = "0",
              description = "Seal a batch before its estimated input tokens exceed this; 0 = off.")
    private long maxBatchTokens;
    @UriParam(label = "producer,advanced", defaultValue = "o200k_base", enums = "o200k_base,cl100k_base",
              description = "The tokenizer encoding for token estimates.")
    private String tokenEncoding = "o200k_base";
    @UriParam(label = "common", defaultValue = "60000",
              description = "Seal an open batch when its oldest request is this old (milliseconds); 0 = never by age."
                            + " Checked by the engine, which runs with the consumer.")
    private long batchTimeout = 60_000;
    @UriParam(label = "producer", defaultValue = "false",
              description = "Seal the open batches when a split ends (exchange property CamelSplitComplete).")
    private boolean flushOnSplitComplete;
    @UriParam(label = "producer", defaultValue = "false",
              description = "Seal every batch of a JSONL document as soon as the document is spooled, its last,"
                            + " partly filled one included. Without it that last batch stays open for the requests"
                            + " that follow (when no batch of its model is open yet) until batchTimeout or a limit"
                            + " seals it; other open batches are not affected either way.")
    private boolean flushOnDocumentEnd;

    // ---------------------------------------------------------------- producer: operations
    @UriParam(label = "producer", defaultValue = "spool",
              enums = "spool,submit,retrieve,wait,cancel,list,results,deleteFiles,flush",
              description = "What the producer does: spool (the automatic pipeline), or an explicit operation: submit"
                            + " (a JSONL document or a list of requests, now, as one or more batches), retrieve,"
                            + " wait, cancel, list, results, deleteFiles (of a batch; id in the header"
                            + " CamelOpenAIBatchBatchId), flush (seal the open segments now). The header"
                            + " CamelOpenAIBatchOperation overrides it per exchange.")
    private OpenAIBatchOperation operation = OpenAIBatchOperation.spool;
    @UriParam(label = "producer", defaultValue = "true",
              description = "submit: hand the batches to the engine of this endpoint name, so that its consumer"
                            + " emits their lines and deletes their files like any other (header"
                            + " CamelOpenAIBatchTrack overrides it). With false the batches are only created.")
    private boolean track = true;
    @UriParam(label = "producer", defaultValue = "3600000",
              description = "wait: the longest wait in milliseconds for a terminal status (header"
                            + " CamelOpenAIBatchWaitTimeout overrides it). Polls start at pollInterval and back off"
                            + " towards maxPollInterval while nothing changes. For scripts and tests: a route thread"
                            + " waits all that time.")
    private long waitTimeout = 3_600_000;
    @UriParam(label = "producer", defaultValue = "output", enums = "output,error",
              description = "results: which file of the batch, its output file or its error file (header"
                            + " CamelOpenAIBatchResultsFile overrides it).")
    private String resultsFile = "output";
    @UriParam(label = "producer", defaultValue = "stream", enums = "stream,lines",
              description = "results: the body is an InputStream of the JSONL file, read as it is consumed (use it"
                            + " with split(body().tokenize(\"\\n\")).streaming()), or lines: a List of the lines"
                            + " parsed as Maps, which loads the whole file into memory.")
    private String resultsAs = "stream";
    @UriParam(label = "producer",
              description = "list: keep only batches with one of these statuses (comma-separated, e.g."
                            + " in_progress,finalizing); header CamelOpenAIBatchListStatus overrides it.")
    private String listStatus;
    @UriParam(label = "producer", defaultValue = "false",
              description = "list: every batch visible to the key, not only those created under this endpoint name"
                            + " (metadata camel_openai_batch_name).")
    private boolean listAll;
    @UriParam(label = "producer", defaultValue = "0",
              description = "list: return at most this many batches, newest first; 0 = every page (header"
                            + " CamelOpenAIBatchLimit overrides it).")
    private int limit;
    @UriParam(label = "producer,advanced", defaultValue = "100",
              description = "list: batches asked per API call (1..100); further pages are read as needed.")
    private int pageSize = 100;

    // ---------------------------------------------------------------- cost
    @UriParam(label = "common",
              description = "Model prices for cost estimates: a properties file (model = input, cached input, output"
                            + " in US dollars per million tokens, batch prices) as a path, file: or classpath:"
                            + " resource. Its entries extend or replace the shipped defaults (or those of the"
                            + " prices bean).")
    private String priceTable;
    @UriParam(label = "common,advanced",
              description = "A PriceTable bean used instead of the shipped default prices (priceTable entries still"
                            + " apply on top).")
    private dev.camelbatch.openaibatch.engine.usage.PriceTable prices;

    // ---------------------------------------------------------------- consumer: engine
    @UriParam(label = "consumer", defaultValue = "10000",
              description = "First interval between status polls in milliseconds; polls back off towards"
                            + " maxPollInterval while nothing changes.")
    private long pollInterval = 10_000;
    @UriParam(label = "consumer", defaultValue = "300000",
              description = "Longest interval between status polls in milliseconds.")
    private long maxPollInterval = 300_000;
    @UriParam(label = "consumer", defaultValue = "10",
              description = "Batches submitted and not finished at most; further batches wait in the store.")
    private int maxInFlightBatches = 10;
    @UriParam(label = "consumer", defaultValue = "content", enums = "content,json,map,raw",
              description = "Body of a result exchange: content (assistant text, vector, moderation result), json"
                            + " (response body as JSON text), map (response body as a Map), raw (the output line).")
    private OutputFormat outputFormat = OutputFormat.content;
    @UriParam(label = "consumer", defaultValue = "headers", enums = "headers,exception",
              description = "How failed requests arrive: as normal exchanges with error headers, or as failed"
                            + " exchanges for the route's error handler.")
    private ErrorHandlingMode errorHandling = ErrorHandlingMode.headers;
    @UriParam(label = "consumer", defaultValue = "true",
              description = "Delete the remote input, output and error files once every line of a batch is"
                            + " delivered.")
    private boolean deleteFiles = true;
    @UriParam(label = "consumer", defaultValue = "false",
              description = "Emit the lines of each batch in the order in which its requests were spooled (results"
                            + " and errors mixed), instead of the order of the output file. The lines are sorted on"
                            + " disk in runs of a few megabytes first, so memory stays bounded; requests that a later"
                            + " batch retries come with that batch, and requests without any line come last.")
    private boolean emitInOrder;
    @UriParam(label = "consumer", defaultValue = "false",
              description = "Also emit one exchange per batch state change (header CamelOpenAIBatchEventType).")
    private boolean batchEvents;
    @UriParam(label = "consumer", defaultValue = "3",
              description = "Attempts per request for expired and retryable failed requests (429, 5xx, timeouts).")
    private int maxAttempts = 3;
    @UriParam(label = "consumer", defaultValue = "0",
              description = "Report a batch without progress for this many milliseconds as stuck; 0 = never.")
    private long stuckBatchTimeout;
    @UriParam(label = "consumer", defaultValue = "false",
              description = "Cancel a stuck batch and resubmit its unfinished requests.")
    private boolean cancelStuckBatches;
    @UriParam(label = "consumer", defaultValue = "false",
              description = "Cancel the batches in flight when the consumer stops (default: leave them running;"
                            + " they are resumed at the next start).")
    private boolean cancelOnStop;
    @UriParam(label = "consumer", defaultValue = "0",
              description = "Estimated input tokens allowed in flight per model (your enqueued-token quota); 0 = no"
                            + " limit.")
    private long maxEnqueuedTokens;

    public OpenAIBatchConfiguration copy() {
        try {
            OpenAIBatchConfiguration c = (OpenAIBatchConfiguration) clone();
            if (bodyParameters != null) {
                c.bodyParameters = new java.util.LinkedHashMap<>(bodyParameters);
            }
            return c;
        } catch (CloneNotSupportedException e) {
            throw new RuntimeCamelException(e);
        }
    }

    public String getApiKey() {
        return apiKey;
    }

    public void setApiKey(String apiKey) {
        this.apiKey = apiKey;
    }

    public String getBaseUrl() {
        return baseUrl;
    }

    public void setBaseUrl(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    public String getOrganization() {
        return organization;
    }

    public void setOrganization(String organization) {
        this.organization = organization;
    }

    public String getProject() {
        return project;
    }

    public void setProject(String project) {
        this.project = project;
    }

    public boolean isAzure() {
        return azure;
    }

    public void setAzure(boolean azure) {
        this.azure = azure;
    }

    public String getAzureApiVersion() {
        return azureApiVersion;
    }

    public void setAzureApiVersion(String azureApiVersion) {
        this.azureApiVersion = azureApiVersion;
    }

    public long getConnectTimeout() {
        return connectTimeout;
    }

    public void setConnectTimeout(long connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    public long getResponseTimeout() {
        return responseTimeout;
    }

    public void setResponseTimeout(long responseTimeout) {
        this.responseTimeout = responseTimeout;
    }

    public int getMaxRetries() {
        return maxRetries;
    }

    public void setMaxRetries(int maxRetries) {
        this.maxRetries = maxRetries;
    }

    public int getMaxConnections() {
        return maxConnections;
    }

    public void setMaxConnections(int maxConnections) {
        this.maxConnections = maxConnections;
    }

    public String getProxyHost() {
        return proxyHost;
    }

    public void setProxyHost(String proxyHost) {
        this.proxyHost = proxyHost;
    }

    public Integer getProxyPort() {
        return proxyPort;
    }

    public void setProxyPort(Integer proxyPort) {
        this.proxyPort = proxyPort;
    }

    public SSLContextParameters getSslContextParameters() {
        return sslContextParameters;
    }

    public void setSslContextParameters(SSLContextParameters sslContextParameters) {
        this.sslContextParameters = sslContextParameters;
    }

    public boolean isTrustAllCertificates() {
        return trustAllCertificates;
    }

    public void setTrustAllCertificates(boolean trustAllCertificates) {
        this.trustAllCertificates = trustAllCertificates;
    }

    public String getStoreDirectory() {
        return storeDirectory;
    }

    public void setStoreDirectory(String storeDirectory) {
        this.storeDirectory = storeDirectory;
    }

    public SyncPolicy getSyncPolicy() {
        return syncPolicy;
    }

    public void setSyncPolicy(SyncPolicy syncPolicy) {
        this.syncPolicy = syncPolicy;
    }

    public long getSyncInterval() {
        return syncInterval;
    }

    public void setSyncInterval(long syncInterval) {
        this.syncInterval = syncInterval;
    }

    public boolean isSpoolMapped() {
        return spoolMapped;
    }

    public void setSpoolMapped(boolean spoolMapped) {
        this.spoolMapped = spoolMapped;
    }

    public DataSource getDataSource() {
        return dataSource;
    }

    public void setDataSource(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public String getTablePrefix() {
        return tablePrefix;
    }

    public void setTablePrefix(String tablePrefix) {
        this.tablePrefix = tablePrefix;
    }

    public String getNodeId() {
        return nodeId;
    }

    public void setNodeId(String nodeId) {
        this.nodeId = nodeId;
    }

    public long getLeaseDuration() {
        return leaseDuration;
    }

    public void setLeaseDuration(long leaseDuration) {
        this.leaseDuration = leaseDuration;
    }

    public String getEndpoint() {
        return endpoint;
    }

    public void setEndpoint(String endpoint) {
        this.endpoint = endpoint;
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public String getSystemMessage() {
        return systemMessage;
    }

    public void setSystemMessage(String systemMessage) {
        this.systemMessage = systemMessage;
    }

    public Map<String, Object> getBodyParameters() {
        return bodyParameters;
    }

    public void setBodyParameters(Map<String, Object> bodyParameters) {
        this.bodyParameters = bodyParameters;
    }

    public String getCarryHeaders() {
        return carryHeaders;
    }

    public void setCarryHeaders(String carryHeaders) {
        this.carryHeaders = carryHeaders;
    }

    public int getMaxRequestsPerBatch() {
        return maxRequestsPerBatch;
    }

    public void setMaxRequestsPerBatch(int maxRequestsPerBatch) {
        this.maxRequestsPerBatch = maxRequestsPerBatch;
    }

    public long getMaxBatchBytes() {
        return maxBatchBytes;
    }

    public void setMaxBatchBytes(long maxBatchBytes) {
        this.maxBatchBytes = maxBatchBytes;
    }

    public long getMaxBatchTokens() {
        return maxBatchTokens;
    }

    public void setMaxBatchTokens(long maxBatchTokens) {
        this.maxBatchTokens = maxBatchTokens;
    }

    public String getTokenEncoding() {
        return tokenEncoding;
    }

    public void setTokenEncoding(String tokenEncoding) {
        this.tokenEncoding = tokenEncoding;
    }

    public long getBatchTimeout() {
        return batchTimeout;
    }

    public void setBatchTimeout(long batchTimeout) {
        this.batchTimeout = batchTimeout;
    }

    public boolean isFlushOnSplitComplete() {
        return flushOnSplitComplete;
    }

    public void setFlushOnSplitComplete(boolean flushOnSplitComplete) {
        this.flushOnSplitComplete = flushOnSplitComplete;
    }

    public boolean isFlushOnDocumentEnd() {
        return flushOnDocumentEnd;
    }

    public void setFlushOnDocumentEnd(boolean flushOnDocumentEnd) {
        this.flushOnDocumentEnd = flushOnDocumentEnd;
    }

    public long getPollInterval() {
        return pollInterval;
    }

    public void setPollInterval(long pollInterval) {
        this.pollInterval = pollInterval;
    }

    public long getMaxPollInterval() {
        return maxPollInterval;
    }

    public void setMaxPollInterval(long maxPollInterval) {
        this.maxPollInterval = maxPollInterval;
    }

    public int getMaxInFlightBatches() {
        return maxInFlightBatches;
    }

    public void setMaxInFlightBatches(int maxInFlightBatches) {
        this.maxInFlightBatches = maxInFlightBatches;
    }

    public OutputFormat getOutputFormat() {
        return outputFormat;
    }

    public void setOutputFormat(OutputFormat outputFormat) {
        this.outputFormat = outputFormat;
    }

    public ErrorHandlingMode getErrorHandling() {
        return errorHandling;
    }

    public void setErrorHandling(ErrorHandlingMode errorHandling) {
        this.errorHandling = errorHandling;
    }

    public boolean isEmitInOrder() {
        return emitInOrder;
    }

    public void setEmitInOrder(boolean emitInOrder) {
        this.emitInOrder = emitInOrder;
    }

    public boolean isDeleteFiles() {
        return deleteFiles;
    }

    public void setDeleteFiles(boolean deleteFiles) {
        this.deleteFiles = deleteFiles;
    }

    public boolean isBatchEvents() {
        return batchEvents;
    }

    public void setBatchEvents(boolean batchEvents) {
        this.batchEvents = batchEvents;
    }

    public int getMaxAttempts() {
        return maxAttempts;
    }

    public void setMaxAttempts(int maxAttempts) {
        this.maxAttempts = maxAttempts;
    }

    public long getStuckBatchTimeout() {
        return stuckBatchTimeout;
    }

    public void setStuckBatchTimeout(long stuckBatchTimeout) {
        this.stuckBatchTimeout = stuckBatchTimeout;
    }

    public boolean isCancelStuckBatches() {
        return cancelStuckBatches;
    }

    public void setCancelStuckBatches(boolean cancelStuckBatches) {
        this.cancelStuckBatches = cancelStuckBatches;
    }

    public boolean isCancelOnStop() {
        return cancelOnStop;
    }

    public void setCancelOnStop(boolean cancelOnStop) {
        this.cancelOnStop = cancelOnStop;
    }

    public OpenAIBatchOperation getOperation() {
        return operation;
    }

    public void setOperation(OpenAIBatchOperation operation) {
        this.operation = operation;
    }

    public boolean isTrack() {
        return track;
    }

    public void setTrack(boolean track) {
        this.track = track;
    }

    public long getWaitTimeout() {
        return waitTimeout;
    }

    public void setWaitTimeout(long waitTimeout) {
        this.waitTimeout = waitTimeout;
    }

    public String getResultsFile() {
        return resultsFile;
    }

    public void setResultsFile(String resultsFile) {
        this.resultsFile = resultsFile;
    }

    public String getResultsAs() {
        return resultsAs;
    }

    public void setResultsAs(String resultsAs) {
        this.resultsAs = resultsAs;
    }

    public String getListStatus() {
        return listStatus;
    }

    public void setListStatus(String listStatus) {
        this.listStatus = listStatus;
    }

    public boolean isListAll() {
        return listAll;
    }

    public void setListAll(boolean listAll) {
        this.listAll = listAll;
    }

    public int getLimit() {
        return limit;
    }

    public void setLimit(int limit) {
        this.limit = limit;
    }

    public int getPageSize() {
        return pageSize;
    }

    public void setPageSize(int pageSize) {
        this.pageSize = pageSize;
    }

    public String getPriceTable() {
        return priceTable;
    }

    public void setPriceTable(String priceTable) {
        this.priceTable = priceTable;
    }

    public dev.camelbatch.openaibatch.engine.usage.PriceTable getPrices() {
        return prices;
    }

    public void setPrices(dev.camelbatch.openaibatch.engine.usage.PriceTable prices) {
        this.prices = prices;
    }

    public long getMaxEnqueuedTokens() {
        return maxEnqueuedTokens;
    }

    public void setMaxEnqueuedTokens(long maxEnqueuedTokens) {
        this.maxEnqueuedTokens = maxEnqueuedTokens;
    }
}
