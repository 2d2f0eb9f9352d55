package dev.camelbatch.openaibatch;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A consumer whose engine cannot start leaves nothing behind: no engine that blocks the next start, no API client,
 * no usage MBean; the next start works and results flow. And a consumer started while its database is out of reach
 * runs, and resumes by itself once the database is back.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConsumerStartFailureTest extends CamelTestSupport {

    static final String KEY = "sk-test-start-failure";
    static BatchSimulator sim;
    static JdbcConnectionPool db;
    static final FlakyDataSource DS = new FlakyDataSource();

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void start() {
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(10)).linesPerStep(10).seed(5)
                .build().start();
        db = TestDatabases.h2(false);
        DS.target = db;
    }

    @AfterAll
    static void stop() {
        sim.close();
        db.dispose();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        context.getRegistry().bind("flakyDs", DS);
        TestComponents.onSimulator(context, sim, KEY, storeDir);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:flaky?dataSource=#flakyDs&model=gpt-4o-mini");
                from("openai-batch:flaky?dataSource=#flakyDs&pollInterval=20&maxPollInterval=100")
                        .routeId("results").autoStartup(false).to("mock:out");
            }
        };
    }

    @Test
    void aFailedStartLeavesNothingBehindAndTheNextStartWorks() throws Exception {
        // the producer holds the runtime (its store was opened while the database was up)
        OpenAIBatchEndpoint endpoint = context.getEndpoint("openai-batch:flaky?dataSource=#flakyDs",
                OpenAIBatchEndpoint.class);
        OpenAIBatchRuntime runtime = OpenAIBatchRuntime.peek(endpoint);
        assertThat(runtime).isNotNull();

        // the engine's work directory cannot be made: a file stands where it goes
        Path work = storeDir.resolve("jdbc-work").resolve("flaky");
        org.apache.camel.util.FileUtil.removeDir(work.toFile());
        Files.createDirectories(work.getParent());
        Files.writeString(work, "in the way");
        assertThatThrownBy(() -> context.getRouteController().startRoute("results"))
                .hasStackTraceContaining(work.toString());
        // nothing of the failed start is left
        assertThat(runtime.engine()).isNull();
        assertThat(runtime.usageMBean()).isNull();
        assertThat(runtime.usageMonitor()).isNull();
        assertThat(runtime.hasClient()).isFalse();

        Files.delete(work);
        context.getRouteController().startRoute("results");
        assertThat(runtime.engine()).isNotNull();
        assertResultsFlow();
    }

    /** The engine does not need the database to start: it resumes by itself once the database is back. */
    @Test
    void aConsumerStartedWhileTheDatabaseIsDownResumesByItself() throws Exception {
        DS.down.set(true);
        try {
            context.getRouteController().startRoute("results");
            OpenAIBatchRuntime runtime = OpenAIBatchRuntime.peek(context.getEndpoint(
                    "openai-batch:flaky?dataSource=#flakyDs", OpenAIBatchEndpoint.class));
            assertThat(runtime.engine()).isNotNull();
        } finally {
            DS.down.set(false);
        }
        assertResultsFlow();
    }

    private void assertResultsFlow() throws Exception {
        MockEndpoint out = getMockEndpoint("mock:out");
        out.expectedMessageCount(3);
        for (int i = 1; i <= 3; i++) {
            int k = i;
            template.sendBodyAndHeader("direct:in", "Calculate: 1 + " + k + " = ", OpenAIBatchConstants.FLUSH,
                    k == 3);
        }
        out.assertIsSatisfied(60_000);
        assertThat(out.getExchanges()).extracting(e -> e.getMessage().getBody(String.class))
                .containsExactlyInAnyOrder("1 + 1 = 2", "1 + 2 = 3", "1 + 3 = 4");
    }

    /** A data source whose connections fail while {@link #down} is set. */
    static final class FlakyDataSource implements DataSource {
        final AtomicBoolean down = new AtomicBoolean();
        volatile DataSource target;

        @Override
        public Connection getConnection() throws SQLException {
            if (down.get()) {
                throw new SQLException("database down");
            }
            return target.getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return getConnection();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
