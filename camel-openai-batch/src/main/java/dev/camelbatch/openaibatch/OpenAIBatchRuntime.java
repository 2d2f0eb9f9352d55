package dev.camelbatch.openaibatch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import dev.camelbatch.openaibatch.api.OpenAIJson;
import dev.camelbatch.openaibatch.api.RetryPolicy;
import dev.camelbatch.openaibatch.engine.BatchEngine;
import dev.camelbatch.openaibatch.engine.BatchEvent;
import dev.camelbatch.openaibatch.engine.EngineConfig;
import dev.camelbatch.openaibatch.engine.EngineListener;
import dev.camelbatch.openaibatch.engine.LineSink;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.Names;
import dev.camelbatch.openaibatch.engine.store.file.FileBatchStore;
import dev.camelbatch.openaibatch.engine.store.jdbc.JdbcBatchStore;
import dev.camelbatch.openaibatch.engine.usage.UsageAccumulator;
import dev.camelbatch.openaibatch.monitor.MonitoredBatchStore;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchMonitor;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchPrices;
import dev.camelbatch.openaibatch.monitor.OpenAIBatchUsage;
import dev.camelbatch.openaibatch.monitor.UsageWatch;
import dev.camelbatch.openaibatch.producer.OpenAIBatchHeaders;
import org.apache.camel.CamelContext;
import org.apache.camel.Message;
import org.apache.camel.util.ObjectHelper;

/**
 * What endpoints of one name share within a JVM: the store, and (while a consumer runs) the engine and its API
 * client. Producers and consumers of the same name in different CamelContexts of one JVM meet here.
 */
public final class OpenAIBatchRuntime {

    private static final Map<String, OpenAIBatchRuntime> RUNTIMES = new HashMap<>();

    private final String key;
    private final String name;
    private final BatchStore store;
    private final ObjectMapper mapper;
    private final Path workDir;
    private final OpenAIBatchMonitor monitor;
    /** Closed when the last endpoint releases this runtime (e.g. Micrometer meters), by identity of what they bind. */
    private final Map<Object, AutoCloseable> bindings = new java.util.IdentityHashMap<>();
    private int refs;
    /** Volatile so that monitoring reads it without waiting for a start or stop in progress. */
    private volatile BatchEngine engine;
    private OpenAIBatchClient client;
    /** Usage, cost and progress of the running engine's batches. */
    private UsageWatch usageMonitor;
    private OpenAIBatchUsage usageMBean;
    /** The data source of a JDBC store (compared by identity), else null. */
    private DataSource dataSource;

    private OpenAIBatchRuntime(String key, String name, BatchStore store, ObjectMapper mapper, Path workDir) {
        this.key = key;
        this.name = name;
        this.monitor = new OpenAIBatchMonitor(name);
        this.store = new MonitoredBatchStore(store, monitor);
        this.mapper = mapper;
        this.workDir = workDir;
        monitor.attach(this.store, () -> this.engine);
    }

    static OpenAIBatchRuntime acquire(OpenAIBatchEndpoint endpoint) throws Exception {
        OpenAIBatchConfiguration conf = endpoint.getConfiguration();
        Path base = storeDirectory(conf);
        String key = key(conf, endpoint.getName());
        synchronized (RUNTIMES) {
            OpenAIBatchRuntime rt = RUNTIMES.get(key);
            if (rt != null && rt.dataSource != conf.getDataSource()) {
                throw new IllegalStateException("Two data sources of openai-batch:" + endpoint.getName() + " have the"
                                                + " same identity hash; use one DataSource bean per database");
            }
            if (rt == null) {
                ObjectMapper mapper = OpenAIJson.mapper();
                if (conf.getDataSource() != null) {
                    // the database holds the store; the directory only temporary files (uploads, downloads)
                    Path work = base.resolve("jdbc-work")
                            .resolve(Names.safe(endpoint.getName()));
                    JdbcBatchStore store = new JdbcBatchStore(conf.getDataSource(), endpoint.getName(),
                            conf.getTablePrefix(), conf.getSyncPolicy(), mapper, work.resolve("upload"));
                    store.start();
                    rt = new OpenAIBatchRuntime(key, endpoint.getName(), store, mapper, work);
                    rt.dataSource = conf.getDataSource();
                } else {
                    FileBatchStore store = new FileBatchStore(base, endpoint.getName(), conf.getSyncPolicy(),
                            conf.getSyncInterval(), conf.isSpoolMapped(), mapper);
                    store.start();
                    rt = new OpenAIBatchRuntime(key, endpoint.getName(), store, mapper,
                            store.directory().resolve("work"));
                }
                RUNTIMES.put(key, rt);
            }
            rt.refs++;
            return rt;
        }
    }

    /** The runtime of an endpoint's name if one is open in this JVM (without acquiring it), else {@code null}. */
    public static OpenAIBatchRuntime peek(OpenAIBatchEndpoint endpoint) {
        String key = key(endpoint.getConfiguration(), endpoint.getName());
        synchronized (RUNTIMES) {
            return RUNTIMES.get(key);
        }
    }

    /**
     * Endpoints of one name in the same store share a runtime: the same store directory, or the same data source
     * (by identity) and table prefix.
     */
    static String key(OpenAIBatchConfiguration conf, String name) {
        DataSource ds = conf.getDataSource();
        if (ds != null) {
            return "jdbc:" + ds.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(ds)) + "|"
                   + conf.getTablePrefix() + "|" + name;
        }
        return storeDirectory(conf) + "|" + name;
    }

    public static Path storeDirectory(OpenAIBatchConfiguration conf) {
        String dir = conf.getStoreDirectory();
        if (ObjectHelper.isEmpty(dir)) {
            dir = System.getProperty("user.home") + "/.camel-openai-batch";
        }
        return Path.of(dir).toAbsolutePath().normalize();
    }

    void release() {
        synchronized (RUNTIMES) {
            if (--refs > 0) {
                return;
            }
            RUNTIMES.remove(key);
        }
        stopEngine();
        closeBindings();
        store.close();
    }

    /** What this runtime is doing (counters, snapshot of the store); lives as long as the runtime. */
    public OpenAIBatchMonitor monitor() {
        return monitor;
    }

    public String name() {
        return name;
    }

    /**
     * Binds something to this runtime once per {@code owner} (identity): {@code binder} runs the first time, and what it
     * returns is closed when the runtime closes.
     */
    public void bindOnce(Object owner, java.util.function.Supplier<AutoCloseable> binder) {
        synchronized (bindings) {
            if (!bindings.containsKey(owner)) {
                bindings.put(owner, binder.get());
            }
        }
    }

    private void closeBindings() {
        List<AutoCloseable> all;
        synchronized (bindings) {
            all = new java.util.ArrayList<>(bindings.values());
            bindings.clear();
        }
        for (AutoCloseable c : all) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // metrics are best effort
            }
        }
    }

    public BatchStore store() {
        return store;
    }

    public ObjectMapper mapper() {
        return mapper;
    }

    synchronized BatchEngine engine() {
        return engine;
    }

    public synchronized OpenAIBatchClient client(OpenAIBatchConfiguration conf, CamelContext context) throws Exception {
        if (client == null) {
            client = new OpenAIBatchClient(clientConfig(conf, context));
        }
        return client;
    }

    /** Whether the API client of this runtime is open (created by a consumer's engine or a producer's operation). */
    synchronized boolean hasClient() {
        return client != null;
    }

    synchronized BatchEngine startEngine(OpenAIBatchConfiguration conf, CamelContext context, LineSink sink,
            EngineListener listener) throws Exception {
        if (engine != null) {
            throw new IllegalStateException("A consumer of openai-batch:" + name + " is already running in this JVM;"
                                            + " one consumer per name drives its batches");
        }
        EngineConfig ec = new EngineConfig();
        ec.pollInterval = conf.getPollInterval();
        ec.maxPollInterval = Math.max(conf.getPollInterval(), conf.getMaxPollInterval());
        ec.maxInFlightBatches = conf.getMaxInFlightBatches();
        ec.batchTimeout = conf.getBatchTimeout();
        ec.deleteFiles = conf.isDeleteFiles();
        ec.emitInOrder = conf.isEmitInOrder();
        ec.maxAttempts = conf.getMaxAttempts();
        ec.stuckBatchTimeout = conf.getStuckBatchTimeout();
        ec.cancelStuckBatches = conf.isCancelStuckBatches();
        ec.cancelOnStop = conf.isCancelOnStop();
        ec.maxEnqueuedTokens = conf.getMaxEnqueuedTokens();
        ec.submitRetryDelay = Math.min(5_000, Math.max(100, conf.getPollInterval()));
        ec.progressLogInterval = Math.max(conf.getPollInterval(), Math.min(60_000, conf.getMaxPollInterval()));
        ec.nodeId = conf.getNodeId();
        ec.leaseDuration = conf.getLeaseDuration();
        // usage, cost and progress are watched from outside the engine, through its sink and listener
        UsageWatch usage = new UsageWatch(name, OpenAIBatchPrices.resolve(conf, context),
                UsageAccumulator.forName(name), ec.progressLogInterval);
        LineSink counted = line -> {
            boolean delivered = sink.deliver(line);
            if (delivered) {
                monitor.delivered(line);
            }
            return delivered;
        };
        EngineListener observed = event -> {
            monitor.event(event);
            if (listener != null) {
                listener.onEvent(event);
            }
        };
        // the engine becomes this runtime's only once it started: a start that fails (e.g. the database of the
        // store is out of reach) leaves nothing behind that would block the next start
        boolean ownClient = client == null;
        OpenAIBatchUsage mbean = null;
        BatchEngine started = null;
        try {
            OpenAIBatchClient api = client(conf, context);
            mbean = OpenAIBatchUsage.register(context, name, usage);
            started = new BatchEngine(store, api, ec, usage.wrap(counted), usage.wrap(observed), mapper, workDir,
                    new CamelEngineThreads(context, this));
            started.start();
        } catch (Exception | Error e) {
            if (started != null) {
                started.stop();
            }
            if (mbean != null) {
                mbean.unregister();
            }
            if (ownClient && client != null) {
                client.close();
                client = null;
            }
            throw e;
        }
        usageMonitor = usage;
        usageMBean = mbean;
        engine = started;
        return started;
    }

    synchronized void stopEngine() {
        if (usageMBean != null) {
            usageMBean.unregister();
            usageMBean = null;
        }
        usageMonitor = null;
        if (engine != null) {
            engine.stop();
            monitor.engineStopped(engine);
            engine = null;
        }
        if (client != null) {
            client.close();
            client = null;
        }
    }

    /** The usage, cost and progress monitor of the running engine, or {@code null}. */
    public synchronized UsageWatch usageMonitor() {
        return usageMonitor;
    }

    /** The usage MBean of the running engine (registered when JMX is on), or {@code null}. */
    synchronized OpenAIBatchUsage usageMBean() {
        return usageMBean;
    }

    /** Adds the progress, usage and cost known at a batch event to its exchange (called by the consumer). */
    static void eventHeaders(OpenAIBatchRuntime runtime, BatchEvent event, Message msg) {
        UsageWatch m = runtime != null ? runtime.usageMonitor() : null;
        if (m != null) {
            OpenAIBatchHeaders.event(m.info(event), msg);
        }
    }

    public void wakeUp() {
        BatchEngine e;
        synchronized (this) {
            e = engine;
        }
        if (e != null) {
            e.wakeUp();
        }
    }

    public static OpenAIClientConfig clientConfig(OpenAIBatchConfiguration conf, CamelContext context) throws Exception {
        String apiKey = conf.getApiKey();
        if (ObjectHelper.isEmpty(apiKey)) {
            apiKey = System.getenv("OPENAI_API_KEY");
        }
        String baseUrl = conf.getBaseUrl();
        if (ObjectHelper.isEmpty(baseUrl)) {
            baseUrl = System.getenv("OPENAI_BASE_URL");
        }
        if (ObjectHelper.isEmpty(apiKey)) {
            throw new IllegalArgumentException("No API key: set the option apiKey (on the component or the endpoint)"
                                               + " or the environment variable OPENAI_API_KEY");
        }
        OpenAIClientConfig.Builder b = OpenAIClientConfig.builder()
                .apiKey(apiKey)
                .organization(conf.getOrganization())
                .project(conf.getProject())
                .azure(conf.isAzure())
                .azureApiVersion(conf.getAzureApiVersion())
                .connectTimeout(Duration.ofMillis(conf.getConnectTimeout()))
                .responseTimeout(Duration.ofMillis(conf.getResponseTimeout()))
                .maxConnections(conf.getMaxConnections())
                .trustAllCertificates(conf.isTrustAllCertificates())
                .retryPolicy(RetryPolicy.builder().maxAttempts(Math.max(1, conf.getMaxRetries())).build())
                .userAgent("camel-openai-batch");
        if (!ObjectHelper.isEmpty(baseUrl)) {
            b.baseUrl(baseUrl);
        }
        if (conf.getProxyHost() != null && conf.getProxyPort() != null) {
            b.proxy(conf.getProxyHost(), conf.getProxyPort());
        }
        if (conf.getSslContextParameters() != null) {
            b.sslContext(conf.getSslContextParameters().createSSLContext(context));
        }
        return b.build();
    }
}
