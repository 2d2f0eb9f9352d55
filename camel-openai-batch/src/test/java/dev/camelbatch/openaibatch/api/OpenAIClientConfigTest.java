package dev.camelbatch.openaibatch.api;

import java.time.Duration;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(120)
class OpenAIClientConfigTest {

    private static final String KEY = "sk-test-SECRETKEY-1234567890";

    @Test
    void defaults() {
        OpenAIClientConfig c = OpenAIClientConfig.builder().apiKey(KEY).build();
        assertThat(c.getBaseUrl()).isEqualTo("https://api.openai.com/v1");
        assertThat(c.isAzure()).isFalse();
        assertThat(c.isTrustAllCertificates()).isFalse();
        assertThat(c.getSslContext()).isNull();
        assertThat(c.getRetryPolicy()).isEqualTo(RetryPolicy.defaults());
        assertThat(c.getMaxConnections()).isPositive();
        assertThat(c.getUserAgent()).startsWith("camel-openai-batch/");
    }

    @Test
    void toStringNeverShowsTheKey() {
        OpenAIClientConfig c = OpenAIClientConfig.builder().apiKey(KEY).organization("org-1").build();
        assertThat(c.toString()).doesNotContain(KEY).doesNotContain("1234567890").doesNotContain("SECRETKEY")
                .contains("apiKey=****").contains("org-1");
        assertThat(c.toBuilder().build().toString()).doesNotContain(KEY);
        try (OpenAIBatchClient client = new OpenAIBatchClient(c)) {
            assertThat(client.toString()).doesNotContain(KEY);
        }
    }

    @Test
    void theUserInfoOfABaseUrlIsNeverShown() {
        OpenAIClientConfig c = OpenAIClientConfig.builder().apiKey(KEY)
                .baseUrl("https://proxy-user:pa55word@gateway.example.com/v1").build();
        assertThat(c.toString()).doesNotContain("pa55word").doesNotContain("proxy-user")
                .contains("baseUrl=https://****@gateway.example.com/v1");
        assertThatThrownBy(() -> OpenAIClientConfig.builder().baseUrl("ftp://proxy-user:pa55word@x/v1").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("pa55word");
        assertThatThrownBy(() -> OpenAIClientConfig.builder().baseUrl("http://u:pa55word@x/v1?a=b").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("pa55word");
        assertThat(OpenAIClientConfig.maskUserInfo("https://u:p@h:8443/v1?x=a@b")).isEqualTo("https://****@h:8443/v1?x=a@b");
        assertThat(OpenAIClientConfig.maskUserInfo("https://token@h/v1")).isEqualTo("https://****@h/v1");
        assertThat(OpenAIClientConfig.maskUserInfo("https://h/v1/a@b")).isEqualTo("https://h/v1/a@b");
        assertThat(OpenAIClientConfig.maskUserInfo("https://api.openai.com/v1")).isEqualTo("https://api.openai.com/v1");
        assertThat(OpenAIClientConfig.maskUserInfo(null)).isNull();
    }

    @Test
    void trailingSlashIsRemovedAndUrlValidated() {
        assertThat(OpenAIClientConfig.builder().baseUrl("http://localhost:8080/v1/").build().getBaseUrl())
                .isEqualTo("http://localhost:8080/v1");
        assertThatThrownBy(() -> OpenAIClientConfig.builder().baseUrl("ftp://x/v1").build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenAIClientConfig.builder().baseUrl("localhost:8080").build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenAIClientConfig.builder().baseUrl("http://x/v1?a=b").build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void azureNeedsAnExplicitBaseUrl() {
        assertThatThrownBy(() -> OpenAIClientConfig.builder().azure(true).apiKey(KEY).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining(KEY);
        OpenAIClientConfig c = OpenAIClientConfig.builder().azure(true).azureApiVersion("2024-10-21")
                .baseUrl("https://res.openai.azure.com/openai").apiKey(KEY).build();
        assertThat(c.getAzureApiVersion()).isEqualTo("2024-10-21");
    }

    @Test
    void proxyAndLimitsAreValidated() {
        assertThatThrownBy(() -> OpenAIClientConfig.builder().proxyHost("proxy").build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenAIClientConfig.builder().maxConnections(0).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenAIClientConfig.builder().apiKey("sk-a\nb").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("sk-a");
        OpenAIClientConfig c = OpenAIClientConfig.builder().proxy("proxy.local", 3128).build();
        assertThat(c.getProxyHost()).isEqualTo("proxy.local");
        assertThat(c.getProxyPort()).isEqualTo(3128);
    }

    @Test
    void clientsBuildWithProxyCustomSslContextAndTrustAll() throws Exception {
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, null, null);
        OpenAIClientConfig withTls = OpenAIClientConfig.builder().apiKey(KEY).sslContext(tls)
                .proxy("127.0.0.1", 3128).connectTimeout(Duration.ofSeconds(1)).maxConnections(3).build();
        try (OpenAIBatchClient c = new OpenAIBatchClient(withTls)) {
            assertThat(c.getConfig().getSslContext()).isSameAs(tls);
        }
        try (OpenAIBatchClient c = new OpenAIBatchClient(withTls.toBuilder().trustAllCertificates(true).build())) {
            assertThat(c.getConfig().isTrustAllCertificates()).isTrue();
        }
    }
}
