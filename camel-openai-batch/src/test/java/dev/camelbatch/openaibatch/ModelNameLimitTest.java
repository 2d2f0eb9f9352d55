package dev.camelbatch.openaibatch;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.engine.lines.InvalidRequestException;
import dev.camelbatch.openaibatch.engine.lines.RequestLines;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A model name longer than the stores keep (the JDBC store's model column) fails its exchange when it is sent, with
 * an error naming the limit, and nothing is spooled; a model name at the limit is spooled.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ModelNameLimitTest extends CamelTestSupport {

    static final String URI = "openai-batch:model-limit?dataSource=#db";
    static final String AT_LIMIT = "m".repeat(256);
    static final String TOO_LONG = "m".repeat(257);
    static JdbcConnectionPool db;

    @TempDir
    static Path storeDir;

    @BeforeAll
    static void database() {
        db = TestDatabases.h2(false);
    }

    @AfterAll
    static void dispose() {
        db.dispose();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        context.getRegistry().bind("db", db);
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        context.addComponent("openai-batch", component);
        return context;
    }

    private List<SegmentInfo> spooled() {
        OpenAIBatchEndpoint endpoint = context.getEndpoint(URI, OpenAIBatchEndpoint.class);
        return OpenAIBatchRuntime.peek(endpoint).store().segments();
    }

    private static void refused(Exchange ex) {
        assertThat(ex.getException()).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("model").hasMessageContaining("257").hasMessageContaining("256");
        assertThat(((InvalidRequestException) ex.getException()).getField()).isEqualTo("body.model");
    }

    @Test
    void aTooLongModelIsRefusedAtSendTimeAndOneAtTheLimitIsSpooled() {
        assertThat(RequestLines.MAX_MODEL_LENGTH).isEqualTo(256);
        // a prompt with the model of the header (written without a tree), a request body, a JSONL document
        refused(template.request(URI, e -> {
            e.getMessage().setHeader(OpenAIBatchConstants.MODEL, TOO_LONG);
            e.getMessage().setBody("Calculate: 1 + 1 = ");
        }));
        refused(template.request(URI, e -> e.getMessage().setBody(Map.of("model", TOO_LONG,
                "messages", List.of(Map.of("role", "user", "content", "hi"))))));
        Exchange doc = template.request(URI, e -> e.getMessage().setBody(("{\"model\":\"gpt-4o-mini\",\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"a\"}]}\n{\"model\":\"" + TOO_LONG + "\",\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"b\"}]}\n").getBytes(StandardCharsets.UTF_8)));
        refused(doc);
        assertThat(((InvalidRequestException) doc.getException()).getLineNumber()).isEqualTo(2);
        assertThat(spooled()).as("nothing spooled").isEmpty();

        Exchange ok = template.request(URI, e -> {
            e.getMessage().setHeader(OpenAIBatchConstants.MODEL, AT_LIMIT);
            e.getMessage().setBody("Calculate: 1 + 1 = ");
        });
        assertThat(ok.getException()).isNull();
        assertThat(spooled()).singleElement().satisfies(s -> {
            assertThat(s.getModel()).isEqualTo(AT_LIMIT);
            assertThat(s.getRequestCount()).isEqualTo(1);
        });
    }
}
