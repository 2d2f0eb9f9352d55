package dev.camelbatch.openaibatch.api;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

import javax.net.ssl.SSLContext;

/**
 * Immutable configuration of an {@link OpenAIBatchClient}. Build it with {@link #builder()}.
 * <p>
 * {@link #toString()} never shows the API key, nor the user-info ({@code user:password@}) of the base URL.
 */
public final class OpenAIClientConfig {

    /** The public OpenAI API base URL. */
    public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofMinutes(3);
    public static final int DEFAULT_MAX_CONNECTIONS = 20;

    private final String baseUrl;
    private final String apiKey;
    private final String organization;
    private final String project;
    private final boolean azure;
    private final String azureApiVersion;
    private final Duration connectTimeout;
    private final Duration responseTimeout;
    private final int maxConnections;
    private final String proxyHost;
    private final Integer proxyPort;
    private final SSLContext sslContext;
    private final boolean trustAllCertificates;
    private final RetryPolicy retryPolicy;
    private final String userAgent;

    private OpenAIClientConfig(Builder b) {
        this.baseUrl = b.baseUrl;
        this.apiKey = b.apiKey;
        this.organization = b.organization;
        this.project = b.project;
        this.azure = b.azure;
        this.azureApiVersion = b.azureApiVersion;
        this.connectTimeout = b.connectTimeout;
        this.responseTimeout = b.responseTimeout;
        this.maxConnections = b.maxConnections;
        this.proxyHost = b.proxyHost;
        this.proxyPort = b.proxyPort;
        this.sslContext = b.sslContext;
        this.trustAllCertificates = b.trustAllCertificates;
        this.retryPolicy = b.retryPolicy;
        this.userAgent = b.userAgent;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.baseUrl = baseUrl;
        b.baseUrlSet = true;
        b.apiKey = apiKey;
        b.organization = organization;
        b.project = project;
        b.azure = azure;
        b.azureApiVersion = azureApiVersion;
        b.connectTimeout = connectTimeout;
        b.responseTimeout = responseTimeout;
        b.maxConnections = maxConnections;
        b.proxyHost = proxyHost;
        b.proxyPort = proxyPort;
        b.sslContext = sslContext;
        b.trustAllCertificates = trustAllCertificates;
        b.retryPolicy = retryPolicy;
        b.userAgent = userAgent;
        return b;
    }

    /** Base URL without trailing slash, e.g. {@code https://api.openai.com/v1}. */
    public String getBaseUrl() {
        return baseUrl;
    }

    /** The API key (secret: never log it). May be {@code null} for an unauthenticated local server. */
    public String getApiKey() {
        return apiKey;
    }

    public String getOrganization() {
        return organization;
    }

    public String getProject() {
        return project;
    }

    public boolean isAzure() {
        return azure;
    }

    /** The Azure {@code api-version} query value, or {@code null} (Azure v1 API: no api-version parameter). */
    public String getAzureApiVersion() {
        return azureApiVersion;
    }

    public Duration getConnectTimeout() {
        return connectTimeout;
    }

    /** Longest wait for a response, and for each read of a response body (socket timeout). */
    public Duration getResponseTimeout() {
        return responseTimeout;
    }

    public int getMaxConnections() {
        return maxConnections;
    }

    public String getProxyHost() {
        return proxyHost;
    }

    public Integer getProxyPort() {
        return proxyPort;
    }

    /** The TLS context, or {@code null} for the JVM default. */
    public SSLContext getSslContext() {
        return sslContext;
    }

    /** Whether every server certificate and host name is accepted (insecure, explicit opt-out only). */
    public boolean isTrustAllCertificates() {
        return trustAllCertificates;
    }

    public RetryPolicy getRetryPolicy() {
        return retryPolicy;
    }

    public String getUserAgent() {
        return userAgent;
    }

    /** Whether an API key is set (without revealing it). */
    public boolean hasApiKey() {
        return apiKey != null && !apiKey.isEmpty();
    }

    @Override
    public String toString() {
        return "OpenAIClientConfig{baseUrl=" + maskUserInfo(baseUrl)
                + ", apiKey=" + (hasApiKey() ? "****" : "<none>")
                + ", organization=" + organization
                + ", project=" + project
                + ", azure=" + azure
                + ", azureApiVersion=" + azureApiVersion
                + ", connectTimeout=" + connectTimeout
                + ", responseTimeout=" + responseTimeout
                + ", maxConnections=" + maxConnections
                + ", proxy=" + (proxyHost == null ? "<none>" : proxyHost + ":" + proxyPort)
                + ", sslContext=" + (sslContext == null ? "<jvm default>" : sslContext.getProtocol())
                + ", trustAllCertificates=" + trustAllCertificates
                + ", retryPolicy=" + retryPolicy
                + ", userAgent=" + userAgent + '}';
    }

    public static final class Builder {
        private String baseUrl = DEFAULT_BASE_URL;
        private boolean baseUrlSet;
        private String apiKey;
        private String organization;
        private String project;
        private boolean azure;
        private String azureApiVersion;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration responseTimeout = DEFAULT_RESPONSE_TIMEOUT;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private String proxyHost;
        private Integer proxyPort;
        private SSLContext sslContext;
        private boolean trustAllCertificates;
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private String userAgent = defaultUserAgent();

        private Builder() {
        }

        /**
         * Base URL: {@code https://api.openai.com/v1} (default), a simulator's URL, or for Azure
         * {@code https://<resource>.openai.azure.com/openai} (classic, with an api-version) or
         * {@code https://<resource>.openai.azure.com/openai/v1} (v1 API). A trailing slash is removed.
         */
        public Builder baseUrl(String baseUrl) {
            this.baseUrl = baseUrl;
            this.baseUrlSet = baseUrl != null;
            return this;
        }

        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        public Builder organization(String organization) {
            this.organization = blankToNull(organization);
            return this;
        }

        public Builder project(String project) {
            this.project = blankToNull(project);
            return this;
        }

        /** Azure OpenAI mode: {@code api-key} header instead of a bearer token, {@code api-version} query. */
        public Builder azure(boolean azure) {
            this.azure = azure;
            return this;
        }

        /** Azure {@code api-version}, e.g. {@code 2024-10-21}; {@code null} for the Azure v1 API. */
        public Builder azureApiVersion(String azureApiVersion) {
            this.azureApiVersion = blankToNull(azureApiVersion);
            return this;
        }

        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        public Builder responseTimeout(Duration responseTimeout) {
            this.responseTimeout = responseTimeout;
            return this;
        }

        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        public Builder proxyHost(String proxyHost) {
            this.proxyHost = blankToNull(proxyHost);
            return this;
        }

        public Builder proxyPort(Integer proxyPort) {
            this.proxyPort = proxyPort;
            return this;
        }

        public Builder proxy(String host, int port) {
            return proxyHost(host).proxyPort(port);
        }

        /** TLS context to use; {@code null} (default) for the JVM's default trust store. */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = sslContext;
            return this;
        }

        /**
         * Accept any server certificate and skip host name verification. Insecure: only for tests or when the user
         * explicitly opts out of TLS verification. Default {@code false}.
         */
        public Builder trustAllCertificates(boolean trustAllCertificates) {
            this.trustAllCertificates = trustAllCertificates;
            return this;
        }

        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = retryPolicy;
            return this;
        }

        public Builder userAgent(String userAgent) {
            this.userAgent = userAgent;
            return this;
        }

        public OpenAIClientConfig build() {
            if (baseUrl == null || baseUrl.isBlank()) {
                throw new IllegalArgumentException("baseUrl must be set");
            }
            String url = baseUrl.trim();
            while (url.endsWith("/")) {
                url = url.substring(0, url.length() - 1);
            }
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("baseUrl is not a valid URI: " + maskUserInfo(url), e);
            }
            if (uri.getScheme() == null || uri.getHost() == null
                    || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
                throw new IllegalArgumentException("baseUrl must be an absolute http(s) URL: " + maskUserInfo(url));
            }
            if (uri.getQuery() != null || uri.getFragment() != null) {
                throw new IllegalArgumentException("baseUrl must not have a query or fragment: " + maskUserInfo(url));
            }
            if (azure && !baseUrlSet) {
                throw new IllegalArgumentException(
                        "Azure mode needs a baseUrl such as https://<resource>.openai.azure.com/openai");
            }
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(responseTimeout, "responseTimeout");
            if (connectTimeout.isNegative() || responseTimeout.isNegative()) {
                throw new IllegalArgumentException("timeouts must not be negative");
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be >= 1, was " + maxConnections);
            }
            if (proxyHost != null) {
                if (proxyPort == null || proxyPort < 1 || proxyPort > 65535) {
                    throw new IllegalArgumentException("proxyPort must be in 1..65535 when proxyHost is set");
                }
            }
            if (retryPolicy == null) {
                retryPolicy = RetryPolicy.defaults();
            }
            if (userAgent == null || userAgent.isBlank()) {
                userAgent = defaultUserAgent();
            }
            if (apiKey != null && apiKey.isBlank()) {
                apiKey = null;
            }
            if (apiKey != null && (apiKey.indexOf('\r') >= 0 || apiKey.indexOf('\n') >= 0)) {
                throw new IllegalArgumentException("apiKey must not contain line breaks");
            }
            String saved = baseUrl;
            baseUrl = url;
            try {
                return new OpenAIClientConfig(this);
            } finally {
                baseUrl = saved;
            }
        }

        private static String blankToNull(String s) {
            return s == null || s.isBlank() ? null : s.trim();
        }
    }

    /**
     * A URL as it may be shown (toString, messages, Spring Boot's actuator): its user-info ({@code user:password@})
     * replaced by {@code ****}; anything else as it is. {@code null} stays {@code null}.
     */
    public static String maskUserInfo(String url) {
        if (url == null) {
            return null;
        }
        int scheme = url.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int end = url.length();
        for (int i = start; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c == '/' || c == '?' || c == '#') {
                end = i;
                break;
            }
        }
        int at = url.lastIndexOf('@', end - 1);
        return at < start ? url : url.substring(0, start) + "****" + url.substring(at);
    }

    static String defaultUserAgent() {
        String v = OpenAIClientConfig.class.getPackage() == null ? null
                : OpenAIClientConfig.class.getPackage().getImplementationVersion();
        return "camel-openai-batch/" + (v == null ? "dev" : v) + " Java/" + System.getProperty("java.version");
    }
}
