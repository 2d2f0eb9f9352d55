package dev.camelbatch.openaibatch.monitor;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.camelbatch.openaibatch.OpenAIBatchComponent;
import dev.camelbatch.openaibatch.OpenAIBatchEndpoint;
import dev.camelbatch.openaibatch.OpenAIBatchRuntime;
import dev.camelbatch.openaibatch.engine.EmittedLine;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentLifecycle;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code code} tag of {@code lines.emitted} takes a bounded set of values: the error codes OpenAI and the
 * component use and HTTP statuses pass; any other code a server writes into an output line counts under
 * {@code other}, so that a server cannot create a meter per line.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LineCodeTagsTest {

    @TempDir
    Path storeDir;

    CamelContext context;

    @AfterEach
    void stop() {
        if (context != null) {
            context.stop();
        }
    }

    private static EmittedLine line(EmittedLine.Kind kind, Integer status, String code) {
        SegmentInfo s = SegmentInfo.create("codes", "/v1/chat/completions", "gpt-4o-mini", SegmentStatus.SEALED,
                System.currentTimeMillis());
        SegmentLifecycle.advance(s, SegmentStatus.FINISHED);
        return new EmittedLine(kind, s, "c", "{}".getBytes(StandardCharsets.UTF_8), null, status, code, "m", null, 0,
                1);
    }

    @Test
    void unknownCodesFoldIntoOneTagValue() throws Exception {
        context = new DefaultCamelContext();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        context.getRegistry().bind("meters", meters);
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        context.addComponent("openai-batch", component);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:codes?model=gpt-4o-mini");
            }
        });
        context.start();
        OpenAIBatchMonitor monitor = OpenAIBatchRuntime.peek(context.getEndpoint("openai-batch:codes",
                OpenAIBatchEndpoint.class)).monitor();

        monitor.delivered(line(EmittedLine.Kind.RESULT, 200, null));
        monitor.delivered(line(EmittedLine.Kind.ERROR, 429, "rate_limit_exceeded"));
        monitor.delivered(line(EmittedLine.Kind.ERROR, 400, "context_length_exceeded"));
        monitor.delivered(line(EmittedLine.Kind.ERROR, 400, "http_400"));
        monitor.delivered(line(EmittedLine.Kind.SYNTHETIC_ERROR, null, "batch_expired"));
        for (int i = 0; i < 50; i++) {
            monitor.delivered(line(EmittedLine.Kind.ERROR, 400, "made_up_code_" + i));
        }
        monitor.delivered(line(EmittedLine.Kind.ERROR, 400, "code with spaces and a very long tail ".repeat(20)));
        monitor.delivered(line(EmittedLine.Kind.RESULT, 999, null));

        assertThat(monitor.linesByCode()).containsOnlyKeys("result|200", "error|rate_limit_exceeded",
                "error|context_length_exceeded", "error|http_400", "error|batch_expired", "error|other",
                "result|other");
        assertThat(monitor.lines("error", "other")).isEqualTo(51);
        assertThat(meters.find(OpenAIBatchMicrometer.PREFIX + "lines.emitted").meters())
                .extracting(m -> m.getId().getTag("code"))
                .containsExactlyInAnyOrder("200", "rate_limit_exceeded", "context_length_exceeded", "http_400",
                        "batch_expired", "other", "other");
        Meter other = meters.get(OpenAIBatchMicrometer.PREFIX + "lines.emitted").tags("kind", "error", "code", "other")
                .functionCounter();
        assertThat(other.measure().iterator().next().getValue()).isEqualTo(51);
    }
}
