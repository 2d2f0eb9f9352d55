package dev.camelbatch.openaibatch.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS: the JVM default trust store rejects a self-signed server, a given SSLContext is used, host names are verified
 * unless trust-all is explicitly chosen. Certificates are made with the JDK's keytool.
 */
@Timeout(300)
class OpenAIBatchClientTlsTest {

    private static final char[] PASSWORD = "changeit".toCharArray();

    @TempDir
    static Path dir;

    private static HttpsServer goodServer;
    private static HttpsServer wrongNameServer;
    private static SSLContext trustGood;
    private static SSLContext trustWrong;
    private static final AtomicInteger served = new AtomicInteger();

    @BeforeAll
    static void startServers() throws Exception {
        Path good = keystore("good", "CN=localhost", "san=dns:localhost,ip:127.0.0.1");
        Path wrong = keystore("wrong", "CN=wrong.example", "san=dns:wrong.example");
        goodServer = httpsServer(serverContext(good));
        wrongNameServer = httpsServer(serverContext(wrong));
        trustGood = trustContext(good);
        trustWrong = trustContext(wrong);
    }

    @AfterAll
    static void stopServers() {
        if (goodServer != null) {
            goodServer.stop(0);
        }
        if (wrongNameServer != null) {
            wrongNameServer.stop(0);
        }
    }

    private static Path keystore(String name, String dname, String san) throws Exception {
        Path ks = dir.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048",
                "-validity", "2", "-dname", dname, "-ext", san, "-storetype", "PKCS12", "-keystore", ks.toString(),
                "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return ks;
    }

    private static KeyStore load(Path ks) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, PASSWORD);
        }
        return store;
    }

    private static SSLContext serverContext(Path ks) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(ks), PASSWORD);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    private static SSLContext trustContext(Path ks) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(ks));
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static HttpsServer httpsServer(SSLContext ctx) throws IOException {
        HttpsServer s = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        s.setHttpsConfigurator(new HttpsConfigurator(ctx));
        s.createContext("/", ex -> {
            served.incrementAndGet();
            byte[] body = StubServer.batchJson("batch_tls", "completed").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        s.start();
        return s;
    }

    private static OpenAIBatchClient client(String host, HttpsServer server, SSLContext ctx, boolean trustAll) {
        return client(host, server, ctx, trustAll, RetryTime.SYSTEM);
    }

    private static OpenAIBatchClient client(String host, HttpsServer server, SSLContext ctx, boolean trustAll,
            RetryTime time) {
        return new OpenAIBatchClient(OpenAIClientConfig.builder()
                .baseUrl("https://" + host + ":" + server.getAddress().getPort() + "/v1")
                .apiKey("sk-test-tls")
                .sslContext(ctx)
                .trustAllCertificates(trustAll)
                .connectTimeout(Duration.ofSeconds(3))
                .retryPolicy(RetryPolicy.builder().maxAttempts(3).initialDelay(Duration.ofSeconds(2)).build())
                .build(), time);
    }

    @Test
    void jvmDefaultTrustRejectsASelfSignedServerWithoutRetrying() {
        int before = served.get();
        RecordedWaits waits = new RecordedWaits();
        try (OpenAIBatchClient c = client("localhost", goodServer, null, false, waits)) {
            assertThatThrownBy(() -> c.retrieveBatch("b")).isInstanceOf(OpenAIConnectionException.class)
                    .hasMessageContaining("1 attempt(s)");
        }
        // a certificate problem does not go away by retrying: no wait for a retry, one attempt, nothing served
        assertThat(waits.waits()).isEmpty();
        assertThat(served.get()).isEqualTo(before);
    }

    @Test
    void givenSslContextIsUsed() {
        for (String host : List.of("localhost", "127.0.0.1")) {
            try (OpenAIBatchClient c = client(host, goodServer, trustGood, false)) {
                assertThat(c.retrieveBatch("b").getId()).isEqualTo("batch_tls");
            }
        }
    }

    @Test
    void hostNameIsVerified() {
        // the certificate is trusted but names wrong.example, not localhost
        try (OpenAIBatchClient c = client("localhost", wrongNameServer, trustWrong, false)) {
            assertThatThrownBy(() -> c.retrieveBatch("b")).isInstanceOf(OpenAIConnectionException.class)
                    .hasMessageContaining("1 attempt(s)");
        }
    }

    @Test
    void trustAllAcceptsAnyCertificateAndName() {
        try (OpenAIBatchClient c = client("localhost", wrongNameServer, null, true)) {
            assertThat(c.retrieveBatch("b").getId()).isEqualTo("batch_tls");
        }
    }
}
