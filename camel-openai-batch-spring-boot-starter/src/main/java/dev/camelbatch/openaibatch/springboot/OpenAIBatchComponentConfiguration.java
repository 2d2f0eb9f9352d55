package dev.camelbatch.openaibatch.springboot;

import org.apache.camel.spring.boot.ComponentConfigurationPropertiesCommon;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The options of the openai-batch component as Spring Boot properties {@code camel.component.openai-batch.*}
 * (kebab case, e.g. {@code camel.component.openai-batch.api-key}). Options set here become the component's
 * options, the defaults of every openai-batch endpoint.
 * <p>
 * Written from the component's catalog by OpenAIBatchComponentConfigurationTest
 * ({@code -Dopenai-batch.update-starter=true}): do not edit by hand. Long by nature: one field, getter
 * and setter per option of the component.
 */
@ConfigurationProperties(prefix = "camel.component.openai-batch")
public class OpenAIBatchComponentConfiguration extends ComponentConfigurationPropertiesCommon {

    /**
     * The base URL of the API. Falls back to the OPENAI_BASE_URL environment variable, then https://api.openai.com/v1.
     */
    private String baseUrl;
    /**
     * Seal an open batch when its oldest request is this old (milliseconds); 0 = never by age. Checked by the engine,
     * which runs with the consumer.
     */
    private Long batchTimeout = 60000L;
    /**
     * Component configuration: the defaults of every endpoint. The option is a
     * dev.camelbatch.openaibatch.OpenAIBatchConfiguration type (a bean reference #bean:name where Spring cannot
     * convert).
     */
    private dev.camelbatch.openaibatch.OpenAIBatchConfiguration configuration;
    /**
     * A javax.sql.DataSource (#myDataSource; pooled or not: the store keeps its own connections) whose database holds
     * the store instead of storeDirectory: PostgreSQL (or H2), shared by several nodes, each segment driven by the
     * node that holds its lease. Tables are created when missing (tablePrefix); with PostgreSQL, syncPolicy ALWAYS
     * commits spooled requests synchronously, INTERVAL and NEVER with synchronous_commit=off. storeDirectory then
     * holds only temporary files. The option is a javax.sql.DataSource type (a bean reference #bean:name where Spring
     * cannot convert).
     */
    private javax.sql.DataSource dataSource;
    /**
     * The OpenAI organization id (OpenAI-Organization header).
     */
    private String organization;
    /**
     * Model prices for cost estimates: a properties file (model = input, cached input, output in US dollars per
     * million tokens, batch prices) as a path, file: or classpath: resource. Its entries extend or replace the shipped
     * defaults (or those of the prices bean).
     */
    private String priceTable;
    /**
     * The OpenAI project id (OpenAI-Project header).
     */
    private String project;
    /**
     * Directory of the embedded file store; each endpoint name uses a subdirectory. Default:
     * ${user.home}/.camel-openai-batch.
     */
    private String storeDirectory;
    /**
     * When spooled requests are forced to disk: ALWAYS (fsync before the producer returns, shared by concurrent
     * producers), INTERVAL (every syncInterval) or NEVER. A request is in the operating system when the producer
     * returns in every case.
     */
    private dev.camelbatch.openaibatch.engine.store.SyncPolicy syncPolicy = dev.camelbatch.openaibatch.engine.store.SyncPolicy.INTERVAL;
    /**
     * Prefix of the JDBC store's tables (segments, requests, history), optionally with a schema:
     * myschema.openai_batch_.
     */
    private String tablePrefix = "openai_batch_";
    /**
     * A PriceTable bean used instead of the shipped default prices (priceTable entries still apply on top). The option
     * is a dev.camelbatch.openaibatch.engine.usage.PriceTable type (a bean reference #bean:name where Spring cannot
     * convert).
     */
    private dev.camelbatch.openaibatch.engine.usage.PriceTable prices;
    /**
     * Also emit one exchange per batch state change (header CamelOpenAIBatchEventType).
     */
    private Boolean batchEvents = false;
    /**
     * Allows for bridging the consumer to the Camel routing Error Handler, which mean any exceptions (if possible)
     * occurred while the Camel consumer is trying to pickup incoming messages, or the likes, will now be processed as
     * a message and handled by the routing Error Handler. Important: This is only possible if the 3rd party component
     * allows Camel to be alerted if an exception was thrown. Some components handle this internally only, and
     * therefore bridgeErrorHandler is not possible. In other situations we may improve the Camel component to hook
     * into the 3rd party component and make this possible for future releases. By default the consumer will use the
     * org.apache.camel.spi.ExceptionHandler to deal with exceptions, that will be logged at WARN or ERROR level and
     * ignored.
     */
    private Boolean bridgeErrorHandler = false;
    /**
     * Cancel the batches in flight when the consumer stops (default: leave them running; they are resumed at the next
     * start).
     */
    private Boolean cancelOnStop = false;
    /**
     * Cancel a stuck batch and resubmit its unfinished requests.
     */
    private Boolean cancelStuckBatches = false;
    /**
     * Delete the remote input, output and error files once every line of a batch is delivered.
     */
    private Boolean deleteFiles = true;
    /**
     * Emit the lines of each batch in the order in which its requests were spooled (results and errors mixed), instead
     * of the order of the output file. The lines are sorted on disk in runs of a few megabytes first, so memory stays
     * bounded; requests that a later batch retries come with that batch, and requests without any line come last.
     */
    private Boolean emitInOrder = false;
    /**
     * How failed requests arrive: as normal exchanges with error headers, or as failed exchanges for the route's error
     * handler.
     */
    private dev.camelbatch.openaibatch.ErrorHandlingMode errorHandling = dev.camelbatch.openaibatch.ErrorHandlingMode.headers;
    /**
     * Attempts per request for expired and retryable failed requests (429, 5xx, timeouts).
     */
    private Integer maxAttempts = 3;
    /**
     * Estimated input tokens allowed in flight per model (your enqueued-token quota); 0 = no limit.
     */
    private Long maxEnqueuedTokens = 0L;
    /**
     * Batches submitted and not finished at most; further batches wait in the store.
     */
    private Integer maxInFlightBatches = 10;
    /**
     * Longest interval between status polls in milliseconds.
     */
    private Long maxPollInterval = 300000L;
    /**
     * Body of a result exchange: content (assistant text, vector, moderation result), json (response body as JSON
     * text), map (response body as a Map), raw (the output line).
     */
    private dev.camelbatch.openaibatch.OutputFormat outputFormat = dev.camelbatch.openaibatch.OutputFormat.content;
    /**
     * First interval between status polls in milliseconds; polls back off towards maxPollInterval while nothing
     * changes.
     */
    private Long pollInterval = 10000L;
    /**
     * Report a batch without progress for this many milliseconds as stuck; 0 = never.
     */
    private Long stuckBatchTimeout = 0L;
    /**
     * How long (milliseconds) a node's lease on a segment lasts unless renewed (JDBC store; renewed every quarter of
     * it). When a node dies, the others take its segments over after at most this long, from the last checkpoint.
     */
    private Long leaseDuration = 60000L;
    /**
     * The id of this node in the leases of the JDBC store; unique per node (default: host name, process id and a
     * random part; the host name is the pod name on Kubernetes).
     */
    private String nodeId;
    /**
     * Default body parameters that every request inherits unless its body sets them, e.g.
     * body.temperature=0&amp;body.max_tokens=64. Values are parsed as JSON when they are JSON (numbers, booleans,
     * objects), else taken as strings. This is a multi-value option with prefix: body. The option is a
     * java.util.Map&lt;java.lang.String, java.lang.Object&gt; type (a bean reference #bean:name where Spring cannot
     * convert).
     */
    private java.util.Map<java.lang.String, java.lang.Object> bodyParameters;
    /**
     * Headers stored beside each request (never sent to OpenAI) and restored on its result exchange: comma-separated
     * names or patterns (ticketId,CamelFileName,Review). Values must be strings, numbers or booleans.
     */
    private String carryHeaders;
    /**
     * The batch endpoint the requests go to.
     */
    private String endpoint = "/v1/chat/completions";
    /**
     * Seal every batch of a JSONL document as soon as the document is spooled, its last, partly filled one included.
     * Without it that last batch stays open for the requests that follow (when no batch of its model is open yet)
     * until batchTimeout or a limit seals it; other open batches are not affected either way.
     */
    private Boolean flushOnDocumentEnd = false;
    /**
     * Seal the open batches when a split ends (exchange property CamelSplitComplete).
     */
    private Boolean flushOnSplitComplete = false;
    /**
     * Whether the producer should be started lazy (on the first message). By starting lazy you can use this to allow
     * CamelContext and routes to startup in situations where a producer may otherwise fail during starting and cause
     * the route to fail being started. By deferring this startup to be lazy then the startup failure can be handled
     * during routing messages via Camel's routing error handlers. Beware that when the first message is processed then
     * creating and starting the producer may take a little time and prolong the total processing time of the
     * processing.
     */
    private Boolean lazyStartProducer = false;
    /**
     * list: return at most this many batches, newest first; 0 = every page (header CamelOpenAIBatchLimit overrides
     * it).
     */
    private Integer limit = 0;
    /**
     * list: every batch visible to the key, not only those created under this endpoint name (metadata
     * camel_openai_batch_name).
     */
    private Boolean listAll = false;
    /**
     * list: keep only batches with one of these statuses (comma-separated, e.g. in_progress,finalizing); header
     * CamelOpenAIBatchListStatus overrides it.
     */
    private String listStatus;
    /**
     * Seal a batch before its file exceeds this many bytes (default 190 MB; hard cap 200 MB).
     */
    private Long maxBatchBytes = 199229440L;
    /**
     * Seal a batch before its estimated input tokens exceed this; 0 = off.
     */
    private Long maxBatchTokens = 0L;
    /**
     * Seal a batch at this many requests (hard cap 50000).
     */
    private Integer maxRequestsPerBatch = 50000;
    /**
     * The model, used when the request body has none. One batch holds one model; requests of different models go to
     * different batches.
     */
    private String model;
    /**
     * What the producer does: spool (the automatic pipeline), or an explicit operation: submit (a JSONL document or a
     * list of requests, now, as one or more batches), retrieve, wait, cancel, list, results, deleteFiles (of a batch;
     * id in the header CamelOpenAIBatchBatchId), flush (seal the open segments now). The header
     * CamelOpenAIBatchOperation overrides it per exchange.
     */
    private dev.camelbatch.openaibatch.OpenAIBatchOperation operation = dev.camelbatch.openaibatch.OpenAIBatchOperation.spool;
    /**
     * results: the body is an InputStream of the JSONL file, read as it is consumed (use it with
     * split(body().tokenize(\n)).streaming()), or lines: a List of the lines parsed as Maps, which loads the whole
     * file into memory.
     */
    private String resultsAs = "stream";
    /**
     * results: which file of the batch, its output file or its error file (header CamelOpenAIBatchResultsFile
     * overrides it).
     */
    private String resultsFile = "output";
    /**
     * A system message put before the user message of prompt requests (chat), or the instructions (responses).
     */
    private String systemMessage;
    /**
     * submit: hand the batches to the engine of this endpoint name, so that its consumer emits their lines and deletes
     * their files like any other (header CamelOpenAIBatchTrack overrides it). With false the batches are only created.
     */
    private Boolean track = true;
    /**
     * wait: the longest wait in milliseconds for a terminal status (header CamelOpenAIBatchWaitTimeout overrides it).
     * Polls start at pollInterval and back off towards maxPollInterval while nothing changes. For scripts and tests: a
     * route thread waits all that time.
     */
    private Long waitTimeout = 3600000L;
    /**
     * list: batches asked per API call (1..100); further pages are read as needed.
     */
    private Integer pageSize = 100;
    /**
     * The tokenizer encoding for token estimates.
     */
    private String tokenEncoding = "o200k_base";
    /**
     * Whether autowiring is enabled. This is used for automatic autowiring options (the option must be marked as
     * autowired) by looking up in the registry to find if there is a single instance of matching type, which then gets
     * configured on the component. This can be used for automatic configuring JDBC data sources, JMS connection
     * factories, AWS Clients, etc.
     */
    private Boolean autowiredEnabled = true;
    /**
     * Connect timeout in milliseconds.
     */
    private Long connectTimeout = 10000L;
    /**
     * Connections in the HTTP pool.
     */
    private Integer maxConnections = 20;
    /**
     * Attempts per API call for 429, 5xx and connection failures (backoff honours Retry-After).
     */
    private Integer maxRetries = 6;
    /**
     * Response timeout in milliseconds (per call; uploads and downloads stream).
     */
    private Long responseTimeout = 120000L;
    /**
     * On Linux, the file store writes the requests of open batches through memory mappings: no system call per request
     * (an acknowledged request survives a killed JVM either way). Set false on copy-on-write file systems (btrfs,
     * ZFS), where a full disk could fault a later write instead of failing the request that meets it. Other systems
     * always write with one call per request.
     */
    private Boolean spoolMapped = true;
    /**
     * Milliseconds between fsyncs with syncPolicy=INTERVAL.
     */
    private Long syncInterval = 1000L;
    /**
     * How long (milliseconds) the result of the API readiness check (an authenticated call listing one batch) is
     * reused before the API is asked again.
     */
    private Long healthCheckApiCacheTime = 5000L;
    /**
     * Used for enabling or disabling all consumer based health checks from this component.
     */
    private Boolean healthCheckConsumerEnabled = true;
    /**
     * The batches check is DOWN while a segment has failed this many times in a row: failed batches, or failed
     * attempts to upload and create its batch; 0 = off.
     */
    private Integer healthCheckMaxBatchFailures = 3;
    /**
     * The batches check is DOWN while a submitted batch has made no progress for this many milliseconds (or the engine
     * reported it stuck, see stuckBatchTimeout); 0 = only the engine's reports.
     */
    private Long healthCheckMaxBatchIdleTime = 3600000L;
    /**
     * The batches check is DOWN while more requests than this wait in the spool (spooled, not yet submitted); 0 = off.
     */
    private Long healthCheckMaxWaitingRequests = 1000000L;
    /**
     * Used for enabling or disabling all producer based health checks from this component. Notice: Camel has by
     * default disabled all producer based health-checks. You can turn on producer checks globally by setting
     * camel.health.producersEnabled=true.
     */
    private Boolean healthCheckProducerEnabled = true;
    /**
     * The batches check is DOWN when sealed segments have waited for submission for this many milliseconds while no
     * batch was submitted, progressed or delivered (the spool grows and nothing drains it: no consumer, a refused key,
     * a quota); 0 = off.
     */
    private Long healthCheckSpoolStallTime = 3600000L;
    /**
     * The Micrometer MeterRegistry (io.micrometer.core.instrument.MeterRegistry) to publish metrics to; by default the
     * single MeterRegistry of the Camel registry, if there is one. The option is a java.lang.Object type (a bean
     * reference #bean:name where Spring cannot convert).
     */
    private Object meterRegistry;
    /**
     * Whether to publish metrics to Micrometer (when micrometer-core is on the class path).
     */
    private Boolean metricsEnabled = true;
    /**
     * Azure OpenAI mode: api-key header, api-version query parameter, baseUrl like
     * https://RESOURCE.openai.azure.com/openai.
     */
    private Boolean azure = false;
    /**
     * The Azure OpenAI api-version (Azure mode only).
     */
    private String azureApiVersion = "2024-10-21";
    /**
     * Proxy host.
     */
    private String proxyHost;
    /**
     * Proxy port.
     */
    private Integer proxyPort;
    /**
     * The OpenAI API key. Falls back to the OPENAI_API_KEY environment variable. Secret: masked in logs.
     */
    private String apiKey;
    /**
     * TLS configuration (trust store, key store, protocols). The option is a
     * org.apache.camel.support.jsse.SSLContextParameters type (a bean reference #bean:name where Spring cannot
     * convert).
     */
    private org.apache.camel.support.jsse.SSLContextParameters sslContextParameters;
    /**
     * Disables TLS certificate and hostname verification. For tests against self-signed servers only.
     */
    private Boolean trustAllCertificates = false;

    public String getBaseUrl() {
        return baseUrl;
    }

    public void setBaseUrl(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    public Long getBatchTimeout() {
        return batchTimeout;
    }

    public void setBatchTimeout(Long batchTimeout) {
        this.batchTimeout = batchTimeout;
    }

    public dev.camelbatch.openaibatch.OpenAIBatchConfiguration getConfiguration() {
        return configuration;
    }

    public void setConfiguration(dev.camelbatch.openaibatch.OpenAIBatchConfiguration configuration) {
        this.configuration = configuration;
    }

    public javax.sql.DataSource getDataSource() {
        return dataSource;
    }

    public void setDataSource(javax.sql.DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public String getOrganization() {
        return organization;
    }

    public void setOrganization(String organization) {
        this.organization = organization;
    }

    public String getPriceTable() {
        return priceTable;
    }

    public void setPriceTable(String priceTable) {
        this.priceTable = priceTable;
    }

    public String getProject() {
        return project;
    }

    public void setProject(String project) {
        this.project = project;
    }

    public String getStoreDirectory() {
        return storeDirectory;
    }

    public void setStoreDirectory(String storeDirectory) {
        this.storeDirectory = storeDirectory;
    }

    public dev.camelbatch.openaibatch.engine.store.SyncPolicy getSyncPolicy() {
        return syncPolicy;
    }

    public void setSyncPolicy(dev.camelbatch.openaibatch.engine.store.SyncPolicy syncPolicy) {
        this.syncPolicy = syncPolicy;
    }

    public String getTablePrefix() {
        return tablePrefix;
    }

    public void setTablePrefix(String tablePrefix) {
        this.tablePrefix = tablePrefix;
    }

    public dev.camelbatch.openaibatch.engine.usage.PriceTable getPrices() {
        return prices;
    }

    public void setPrices(dev.camelbatch.openaibatch.engine.usage.PriceTable prices) {
        this.prices = prices;
    }

    public Boolean getBatchEvents() {
        return batchEvents;
    }

    public void setBatchEvents(Boolean batchEvents) {
        this.batchEvents = batchEvents;
    }

    public Boolean getBridgeErrorHandler() {
        return bridgeErrorHandler;
    }

    public void setBridgeErrorHandler(Boolean bridgeErrorHandler) {
        this.bridgeErrorHandler = bridgeErrorHandler;
    }

    public Boolean getCancelOnStop() {
        return cancelOnStop;
    }

    public void setCancelOnStop(Boolean cancelOnStop) {
        this.cancelOnStop = cancelOnStop;
    }

    public Boolean getCancelStuckBatches() {
        return cancelStuckBatches;
    }

    public void setCancelStuckBatches(Boolean cancelStuckBatches) {
        this.cancelStuckBatches = cancelStuckBatches;
    }

    public Boolean getDeleteFiles() {
        return deleteFiles;
    }

    public void setDeleteFiles(Boolean deleteFiles) {
        this.deleteFiles = deleteFiles;
    }

    public Boolean getEmitInOrder() {
        return emitInOrder;
    }

    public void setEmitInOrder(Boolean emitInOrder) {
        this.emitInOrder = emitInOrder;
    }

    public dev.camelbatch.openaibatch.ErrorHandlingMode getErrorHandling() {
        return errorHandling;
    }

    public void setErrorHandling(dev.camelbatch.openaibatch.ErrorHandlingMode errorHandling) {
        this.errorHandling = errorHandling;
    }

    public Integer getMaxAttempts() {
        return maxAttempts;
    }

    public void setMaxAttempts(Integer maxAttempts) {
        this.maxAttempts = maxAttempts;
    }

    public Long getMaxEnqueuedTokens() {
        return maxEnqueuedTokens;
    }

    public void setMaxEnqueuedTokens(Long maxEnqueuedTokens) {
        this.maxEnqueuedTokens = maxEnqueuedTokens;
    }

    public Integer getMaxInFlightBatches() {
        return maxInFlightBatches;
    }

    public void setMaxInFlightBatches(Integer maxInFlightBatches) {
        this.maxInFlightBatches = maxInFlightBatches;
    }

    public Long getMaxPollInterval() {
        return maxPollInterval;
    }

    public void setMaxPollInterval(Long maxPollInterval) {
        this.maxPollInterval = maxPollInterval;
    }

    public dev.camelbatch.openaibatch.OutputFormat getOutputFormat() {
        return outputFormat;
    }

    public void setOutputFormat(dev.camelbatch.openaibatch.OutputFormat outputFormat) {
        this.outputFormat = outputFormat;
    }

    public Long getPollInterval() {
        return pollInterval;
    }

    public void setPollInterval(Long pollInterval) {
        this.pollInterval = pollInterval;
    }

    public Long getStuckBatchTimeout() {
        return stuckBatchTimeout;
    }

    public void setStuckBatchTimeout(Long stuckBatchTimeout) {
        this.stuckBatchTimeout = stuckBatchTimeout;
    }

    public Long getLeaseDuration() {
        return leaseDuration;
    }

    public void setLeaseDuration(Long leaseDuration) {
        this.leaseDuration = leaseDuration;
    }

    public String getNodeId() {
        return nodeId;
    }

    public void setNodeId(String nodeId) {
        this.nodeId = nodeId;
    }

    public java.util.Map<java.lang.String, java.lang.Object> getBodyParameters() {
        return bodyParameters;
    }

    public void setBodyParameters(java.util.Map<java.lang.String, java.lang.Object> bodyParameters) {
        this.bodyParameters = bodyParameters;
    }

    public String getCarryHeaders() {
        return carryHeaders;
    }

    public void setCarryHeaders(String carryHeaders) {
        this.carryHeaders = carryHeaders;
    }

    public String getEndpoint() {
        return endpoint;
    }

    public void setEndpoint(String endpoint) {
        this.endpoint = endpoint;
    }

    public Boolean getFlushOnDocumentEnd() {
        return flushOnDocumentEnd;
    }

    public void setFlushOnDocumentEnd(Boolean flushOnDocumentEnd) {
        this.flushOnDocumentEnd = flushOnDocumentEnd;
    }

    public Boolean getFlushOnSplitComplete() {
        return flushOnSplitComplete;
    }

    public void setFlushOnSplitComplete(Boolean flushOnSplitComplete) {
        this.flushOnSplitComplete = flushOnSplitComplete;
    }

    public Boolean getLazyStartProducer() {
        return lazyStartProducer;
    }

    public void setLazyStartProducer(Boolean lazyStartProducer) {
        this.lazyStartProducer = lazyStartProducer;
    }

    public Integer getLimit() {
        return limit;
    }

    public void setLimit(Integer limit) {
        this.limit = limit;
    }

    public Boolean getListAll() {
        return listAll;
    }

    public void setListAll(Boolean listAll) {
        this.listAll = listAll;
    }

    public String getListStatus() {
        return listStatus;
    }

    public void setListStatus(String listStatus) {
        this.listStatus = listStatus;
    }

    public Long getMaxBatchBytes() {
        return maxBatchBytes;
    }

    public void setMaxBatchBytes(Long maxBatchBytes) {
        this.maxBatchBytes = maxBatchBytes;
    }

    public Long getMaxBatchTokens() {
        return maxBatchTokens;
    }

    public void setMaxBatchTokens(Long maxBatchTokens) {
        this.maxBatchTokens = maxBatchTokens;
    }

    public Integer getMaxRequestsPerBatch() {
        return maxRequestsPerBatch;
    }

    public void setMaxRequestsPerBatch(Integer maxRequestsPerBatch) {
        this.maxRequestsPerBatch = maxRequestsPerBatch;
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public dev.camelbatch.openaibatch.OpenAIBatchOperation getOperation() {
        return operation;
    }

    public void setOperation(dev.camelbatch.openaibatch.OpenAIBatchOperation operation) {
        this.operation = operation;
    }

    public String getResultsAs() {
        return resultsAs;
    }

    public void setResultsAs(String resultsAs) {
        this.resultsAs = resultsAs;
    }

    public String getResultsFile() {
        return resultsFile;
    }

    public void setResultsFile(String resultsFile) {
        this.resultsFile = resultsFile;
    }

    public String getSystemMessage() {
        return systemMessage;
    }

    public void setSystemMessage(String systemMessage) {
        this.systemMessage = systemMessage;
    }

    public Boolean getTrack() {
        return track;
    }

    public void setTrack(Boolean track) {
        this.track = track;
    }

    public Long getWaitTimeout() {
        return waitTimeout;
    }

    public void setWaitTimeout(Long waitTimeout) {
        this.waitTimeout = waitTimeout;
    }

    public Integer getPageSize() {
        return pageSize;
    }

    public void setPageSize(Integer pageSize) {
        this.pageSize = pageSize;
    }

    public String getTokenEncoding() {
        return tokenEncoding;
    }

    public void setTokenEncoding(String tokenEncoding) {
        this.tokenEncoding = tokenEncoding;
    }

    public Boolean getAutowiredEnabled() {
        return autowiredEnabled;
    }

    public void setAutowiredEnabled(Boolean autowiredEnabled) {
        this.autowiredEnabled = autowiredEnabled;
    }

    public Long getConnectTimeout() {
        return connectTimeout;
    }

    public void setConnectTimeout(Long connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    public Integer getMaxConnections() {
        return maxConnections;
    }

    public void setMaxConnections(Integer maxConnections) {
        this.maxConnections = maxConnections;
    }

    public Integer getMaxRetries() {
        return maxRetries;
    }

    public void setMaxRetries(Integer maxRetries) {
        this.maxRetries = maxRetries;
    }

    public Long getResponseTimeout() {
        return responseTimeout;
    }

    public void setResponseTimeout(Long responseTimeout) {
        this.responseTimeout = responseTimeout;
    }

    public Boolean getSpoolMapped() {
        return spoolMapped;
    }

    public void setSpoolMapped(Boolean spoolMapped) {
        this.spoolMapped = spoolMapped;
    }

    public Long getSyncInterval() {
        return syncInterval;
    }

    public void setSyncInterval(Long syncInterval) {
        this.syncInterval = syncInterval;
    }

    public Long getHealthCheckApiCacheTime() {
        return healthCheckApiCacheTime;
    }

    public void setHealthCheckApiCacheTime(Long healthCheckApiCacheTime) {
        this.healthCheckApiCacheTime = healthCheckApiCacheTime;
    }

    public Boolean getHealthCheckConsumerEnabled() {
        return healthCheckConsumerEnabled;
    }

    public void setHealthCheckConsumerEnabled(Boolean healthCheckConsumerEnabled) {
        this.healthCheckConsumerEnabled = healthCheckConsumerEnabled;
    }

    public Integer getHealthCheckMaxBatchFailures() {
        return healthCheckMaxBatchFailures;
    }

    public void setHealthCheckMaxBatchFailures(Integer healthCheckMaxBatchFailures) {
        this.healthCheckMaxBatchFailures = healthCheckMaxBatchFailures;
    }

    public Long getHealthCheckMaxBatchIdleTime() {
        return healthCheckMaxBatchIdleTime;
    }

    public void setHealthCheckMaxBatchIdleTime(Long healthCheckMaxBatchIdleTime) {
        this.healthCheckMaxBatchIdleTime = healthCheckMaxBatchIdleTime;
    }

    public Long getHealthCheckMaxWaitingRequests() {
        return healthCheckMaxWaitingRequests;
    }

    public void setHealthCheckMaxWaitingRequests(Long healthCheckMaxWaitingRequests) {
        this.healthCheckMaxWaitingRequests = healthCheckMaxWaitingRequests;
    }

    public Boolean getHealthCheckProducerEnabled() {
        return healthCheckProducerEnabled;
    }

    public void setHealthCheckProducerEnabled(Boolean healthCheckProducerEnabled) {
        this.healthCheckProducerEnabled = healthCheckProducerEnabled;
    }

    public Long getHealthCheckSpoolStallTime() {
        return healthCheckSpoolStallTime;
    }

    public void setHealthCheckSpoolStallTime(Long healthCheckSpoolStallTime) {
        this.healthCheckSpoolStallTime = healthCheckSpoolStallTime;
    }

    public Object getMeterRegistry() {
        return meterRegistry;
    }

    public void setMeterRegistry(Object meterRegistry) {
        this.meterRegistry = meterRegistry;
    }

    public Boolean getMetricsEnabled() {
        return metricsEnabled;
    }

    public void setMetricsEnabled(Boolean metricsEnabled) {
        this.metricsEnabled = metricsEnabled;
    }

    public Boolean getAzure() {
        return azure;
    }

    public void setAzure(Boolean azure) {
        this.azure = azure;
    }

    public String getAzureApiVersion() {
        return azureApiVersion;
    }

    public void setAzureApiVersion(String azureApiVersion) {
        this.azureApiVersion = azureApiVersion;
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

    public String getApiKey() {
        return apiKey;
    }

    public void setApiKey(String apiKey) {
        this.apiKey = apiKey;
    }

    public org.apache.camel.support.jsse.SSLContextParameters getSslContextParameters() {
        return sslContextParameters;
    }

    public void setSslContextParameters(org.apache.camel.support.jsse.SSLContextParameters sslContextParameters) {
        this.sslContextParameters = sslContextParameters;
    }

    public Boolean getTrustAllCertificates() {
        return trustAllCertificates;
    }

    public void setTrustAllCertificates(Boolean trustAllCertificates) {
        this.trustAllCertificates = trustAllCertificates;
    }
}
