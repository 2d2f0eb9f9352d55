package dev.camelbatch.openaibatch;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.camelbatch.openaibatch.engine.store.jdbc.TestDatabases;
import dev.camelbatch.openaibatch.simulator.BatchSimulator;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With the store in a database, the engine's work directory and the files it downloads and sorts there are the
 * owner's only (0700 / 0600), as in the file store: model outputs are not readable by other users of the machine.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JdbcWorkFilePermissionsTest extends CamelTestSupport {

    static final String KEY = "sk-test-perms";
    static BatchSimulator sim;
    static JdbcConnectionPool db;

    @TempDir
    static Path storeDir;

    /** The permissions seen while the first line is processed: the work directory and every file in it. */
    final Map<String, String> seen = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() {
        Assumptions.assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"),
                "POSIX file permissions");
        sim = BatchSimulator.builder().apiKey(KEY).port(0).stepDelay(Duration.ofMillis(10)).linesPerStep(10).seed(7)
                .build().start();
        db = TestDatabases.h2(false);
    }

    @AfterAll
    static void stop() {
        if (sim != null) {
            sim.close();
        }
        if (db != null) {
            db.dispose();
        }
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        context.getRegistry().bind("db", db);
        TestComponents.onSimulator(context, sim, KEY, storeDir);
        return context;
    }

    @Override
    protected RouteBuilder createRouteBuilder() {
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").to("openai-batch:perms?dataSource=#db&model=gpt-4o-mini");
                from("openai-batch:perms?dataSource=#db&pollInterval=20&maxPollInterval=100&emitInOrder=true")
                        .process(e -> {
                            if (seen.isEmpty()) {
                                Path work = storeDir.resolve("jdbc-work").resolve("perms");
                                seen.put(".", perms(work));
                                try (Stream<Path> files = Files.list(work)) {
                                    files.forEach(f -> seen.put(f.getFileName() + (Files.isDirectory(f) ? "/" : ""),
                                            perms(f)));
                                }
                            }
                        })
                        .to("mock:out");
            }
        };
    }

    private static String perms(Path p) {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
        } catch (java.io.IOException e) {
            return "gone";
        }
    }

    @Test
    void workDirectoryAndDownloadedFilesAreTheOwnersOnly() throws Exception {
        MockEndpoint out = getMockEndpoint("mock:out");
        out.expectedMessageCount(3);
        for (int i = 1; i <= 3; i++) {
            template.sendBodyAndHeader("direct:in", "Calculate: 1 + " + i + " = ", OpenAIBatchConstants.FLUSH, i == 3);
        }
        out.assertIsSatisfied(60_000);

        Map<String, String> files = new TreeMap<>(seen);
        assertThat(files).containsEntry(".", "rwx------");
        assertThat(files.keySet()).as("the downloaded output file and its sorted copy")
                .anyMatch(n -> n.endsWith(".out.jsonl")).anyMatch(n -> n.endsWith(".ordered.jsonl"));
        files.remove(".");
        assertThat(files).allSatisfy((name, perms) -> assertThat(perms).as(name)
                .isIn(name.endsWith("/") ? "rwx------" : "rw-------", "gone"));
        assertThat(Files.getPosixFilePermissions(storeDir.resolve("jdbc-work")))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }
}
