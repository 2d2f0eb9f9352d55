package dev.camelbatch.openaibatch;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An append that fails after the request was stored (the database committed, then the connection broke before the
 * answer) and Camel's redelivery (which restores the message as it was before the failed try): the redelivered
 * exchange finds the custom id generated for the first try in its properties and the request already spooled, so it
 * is not stored a second time under a new id.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProducerRedeliveryTest extends CamelTestSupport {

    private static final JdbcConnectionPool POOL = TestDatabases.h2(false);
    private static final AtomicBoolean FAIL_NEXT_COMMIT = new AtomicBoolean();

    @TempDir
    static Path storeDir;

    @AfterAll
    static void dispose() {
        POOL.dispose();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setApiKey("sk-unused");
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        context.addComponent("openai-batch", component);
        context.getRegistry().bind("db", committingThenFailing(POOL));
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").errorHandler(defaultErrorHandler().maximumRedeliveries(2).redeliveryDelay(0))
                        .to("openai-batch:redeliver?dataSource=#db&tablePrefix=redeliver_&model=gpt-4o-mini");
            }
        };
    }

    @Test
    void aRedeliveryAfterAFailedAppendIsNotSpooledTwice() throws Exception {
        FAIL_NEXT_COMMIT.set(true);
        Exchange ex = template.request("direct:in", e -> e.getMessage().setBody("Hello"));

        assertThat(FAIL_NEXT_COMMIT.get()).as("the append's commit failed after it took effect").isFalse();
        assertThat(ex.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, Integer.class)).as("redelivered")
                .isEqualTo(1);
        assertThat(ex.getException()).as("the redelivery finds the request spooled").isNull();
        String id = ex.getMessage().getHeader(OpenAIBatchConstants.CUSTOM_ID, String.class);
        assertThat(requestsStored()).as("requests stored for one exchange").isEqualTo(1);
        assertThat(ids()).as("under the id on the exchange").startsWith(id + "/");

        // the same exchange sent again on purpose (a loop) is a new request with a new id
        Exchange again = template.request("direct:in", e -> e.getMessage().setBody("Hello"));
        assertThat(again.getException()).isNull();
        assertThat(requestsStored()).isEqualTo(2);
    }

    private static String ids() throws SQLException {
        StringBuilder sb = new StringBuilder();
        try (Connection c = POOL.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT custom_id, live_id, segment_id FROM redeliver_requests")) {
            while (rs.next()) {
                sb.append(rs.getString(1)).append('/').append(rs.getString(2)).append('/').append(rs.getString(3)).append(' ');
            }
        }
        return sb.toString();
    }

    private static long requestsStored() throws SQLException {
        try (Connection c = POOL.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM redeliver_requests")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * A data source whose next commit of a transaction that stored a request, once armed, commits and then reports a
     * lost connection.
     */
    private static DataSource committingThenFailing(DataSource target) {
        return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
                new Class<?>[] { DataSource.class }, (p, m, args) -> {
                    Object result = invoke(m, target, args);
                    if (result instanceof Connection c) {
                        return connection(c);
                    }
                    return result;
                });
    }

    private static Connection connection(Connection target) {
        AtomicBoolean storedRequest = new AtomicBoolean();
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] { Connection.class }, (p, m, args) -> {
                    if (m.getName().startsWith("prepare") && args != null && args[0] instanceof String sql
                        && sql.toUpperCase(java.util.Locale.ROOT).contains("INSERT INTO REDELIVER_REQUESTS")) {
                        storedRequest.set(true);
                    }
                    Object result = invoke(m, target, args);
                    if (m.getName().equals("commit") && storedRequest.getAndSet(false)
                        && FAIL_NEXT_COMMIT.compareAndSet(true, false)) {
                        throw new SQLException("the connection broke after the commit (simulated)", "XX000");
                    }
                    return result;
                });
    }

    private static Object invoke(java.lang.reflect.Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
