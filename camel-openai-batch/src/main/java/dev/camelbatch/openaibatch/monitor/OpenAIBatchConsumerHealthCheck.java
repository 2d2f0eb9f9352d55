package dev.camelbatch.openaibatch.monitor;

import java.time.Duration;
import java.util.Map;

import dev.camelbatch.openaibatch.OpenAIBatchConsumer;
import dev.camelbatch.openaibatch.OpenAIBatchEndpoint;
import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import dev.camelbatch.openaibatch.api.OpenAIApiException;
import dev.camelbatch.openaibatch.api.OpenAIBatchClient;
import dev.camelbatch.openaibatch.api.OpenAIClientConfig;
import dev.camelbatch.openaibatch.api.RetryPolicy;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness of the API for a consumer: an authenticated call that lists one batch, without retries and with short
 * timeouts, its outcome reused for {@code healthCheckApiCacheTime}. DOWN when the key is refused (401/403, with the
 * reason), when the API cannot be reached or answers with an error, and while the engine of the consumer has
 * stopped submitting because the key was refused.
 * <p>
 * Set on the consumer ({@link org.apache.camel.health.HealthCheckAware}), so Camel's consumers repository reports
 * it together with the state of the route, as {@code consumer:<routeId>}; its own id is
 * {@code openai-batch-consumer-<name>}.
 */
public class OpenAIBatchConsumerHealthCheck extends AbstractHealthCheck {

    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

    private final OpenAIBatchConsumer consumer;
    /** One probe at a time. */
    private final Object lock = new Object();
    /** Guards {@link #client} alone, so that closing it never waits for a probe in progress. */
    private final Object clientLock = new Object();
    private OpenAIBatchClient client;
    private volatile Probe last;

    /** The outcome of one probe of the API. */
    private record Probe(long at, boolean ok, Integer httpStatus, String message, Throwable error) {
    }

    public OpenAIBatchConsumerHealthCheck(OpenAIBatchConsumer consumer) {
        // one consumer per name runs in a JVM
        super("camel", "openai-batch-consumer-" + consumer.getEndpoint().getName());
        this.consumer = consumer;
    }

    @Override
    public boolean isLiveness() {
        // a refused key or an unreachable API is not cured by a restart
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        OpenAIBatchEndpoint endpoint = consumer.getEndpoint();
        builder.detail("openai-batch.name", endpoint.getName());
        if (!consumer.isStarted()) {
            closeClient();
            builder.message("consumer not started").down();
            return;
        }
        String authProblem = consumer.getEngine() != null ? consumer.getEngine().authProblem() : null;
        Probe p = probe(endpoint);
        builder.detail("api.checked.at", p.at());
        if (p.httpStatus() != null) {
            builder.detail(SERVICE_STATUS_CODE, p.httpStatus());
            builder.detail(HTTP_RESPONSE_CODE, p.httpStatus());
        }
        if (!p.ok()) {
            builder.message(p.message());
            if (p.error() != null) {
                builder.error(p.error());
            }
            builder.down();
            return;
        }
        if (authProblem != null) {
            // the probe passed but the engine has not tried again yet: it resumes at its next cycle
            builder.detail("engine.auth.problem", authProblem);
            builder.message("the API refused the key (" + authProblem + "); submissions resume at the next cycle")
                    .down();
            return;
        }
        builder.up();
    }

    private Probe probe(OpenAIBatchEndpoint endpoint) {
        long cacheTime = endpoint.getComponent().getHealthCheckApiCacheTime();
        synchronized (lock) {
            long now = System.currentTimeMillis();
            Probe cached = last;
            if (cached != null && now - cached.at() < cacheTime) {
                return cached;
            }
            Probe p;
            try {
                client().listBatches(null, 1);
                p = new Probe(now, true, 200, null, null);
            } catch (OpenAIApiException e) {
                int status = e.getHttpStatus();
                String what = status == 401 || status == 403 ? "the API refused the key" : "the API answered an error";
                p = new Probe(now, false, status, what + ": " + status + " " + e.getMessage(), e);
            } catch (RuntimeException e) {
                p = new Probe(now, false, null, "the API cannot be reached: " + e.getMessage(), e);
            } catch (Exception e) {
                p = new Probe(now, false, null, "the API client cannot be configured: " + e.getMessage(), e);
            }
            last = p;
            if (!consumer.isRunAllowed()) {
                // the consumer stopped while the API was asked: a client made meanwhile is not left open
                closeClient();
            }
            return p;
        }
    }

    /** A client of its own: one attempt, short timeouts, so that a health call never waits for retries. */
    private OpenAIBatchClient client() throws Exception {
        synchronized (clientLock) {
            if (client == null) {
                OpenAIBatchEndpoint endpoint = consumer.getEndpoint();
                OpenAIClientConfig base = OpenAIBatchRuntime.clientConfig(endpoint.getConfiguration(),
                        endpoint.getCamelContext());
                Duration connect = base.getConnectTimeout().compareTo(PROBE_TIMEOUT) < 0
                        ? base.getConnectTimeout() : PROBE_TIMEOUT;
                client = new OpenAIBatchClient(base.toBuilder().retryPolicy(RetryPolicy.none()).maxConnections(1)
                        .connectTimeout(connect).responseTimeout(PROBE_TIMEOUT).build());
            }
            return client;
        }
    }

    /** The client of the probe while one is open, else {@code null}. */
    OpenAIBatchClient currentClient() {
        synchronized (clientLock) {
            return client;
        }
    }

    /** Forgets the cached outcome, so that the next call asks the API (tests, JMX). */
    public void reset() {
        last = null;
    }

    /**
     * Closes the probe's client (its connection pool) and forgets the cached outcome; called when the consumer stops.
     * A probe in progress fails, and the next call after a restart opens a new client.
     */
    public void closeClient() {
        OpenAIBatchClient c;
        synchronized (clientLock) {
            c = client;
            client = null;
        }
        last = null;
        if (c != null) {
            c.close();
        }
    }
}
