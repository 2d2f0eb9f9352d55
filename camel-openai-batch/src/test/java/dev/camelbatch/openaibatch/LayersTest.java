package dev.camelbatch.openaibatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lower layers never import higher ones: the API client knows neither the engine nor Camel; the engine does not
 * know Camel or the component's Camel face. And only {@code SegmentLifecycle} changes a segment's status (a store
 * restores a status it reads back, which is not a change).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LayersTest {

    private static final Path MAIN = Path.of("src", "main", "java", "dev", "camelbatch", "openaibatch");
    private static final Pattern IMPORT = Pattern.compile("^import (static )?([\\w.]+);", Pattern.MULTILINE);

    @Test
    void theApiClientKnowsNeitherTheEngineNorCamel() throws IOException {
        assertThat(imports(MAIN.resolve("api"))).noneMatch(i -> i.startsWith("dev.camelbatch.openaibatch.engine.")
                || i.startsWith("org.apache.camel.") || isCamelFace(i));
    }

    @Test
    void theEngineKnowsNeitherCamelNorTheCamelFace() throws IOException {
        assertThat(imports(MAIN.resolve("engine"))).noneMatch(i -> i.startsWith("org.apache.camel.") || isCamelFace(i));
    }

    @Test
    void onlyTheLifecycleChangesAStatus() throws IOException {
        // a status named in code is a change; SegmentStatus.valueOf(...) restores one read back from a row
        Pattern change = Pattern.compile("\\.setStatus\\(SegmentStatus\\.(?!valueOf)");
        List<String> offenders = new ArrayList<>();
        for (Path p : javaFiles(MAIN)) {
            String name = p.getFileName().toString();
            if (!name.equals("SegmentLifecycle.java") && change.matcher(Files.readString(p)).find()) {
                offenders.add(name);
            }
        }
        assertThat(offenders).as("classes that change a segment's status without SegmentLifecycle").isEmpty();
    }

    /** A class of the Camel face (the top package), e.g. dev.camelbatch.openaibatch.OpenAIBatchRuntime. */
    private static boolean isCamelFace(String imported) {
        return imported.matches("dev\\.camelbatch\\.openaibatch\\.[A-Z]\\w*(\\..*)?");
    }

    private static List<String> imports(Path dir) throws IOException {
        List<String> all = new ArrayList<>();
        for (Path p : javaFiles(dir)) {
            Matcher m = IMPORT.matcher(Files.readString(p));
            while (m.find()) {
                all.add(m.group(2));
            }
        }
        assertThat(all).as("imports of %s", dir).isNotEmpty();
        return all;
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".java")).toList();
        }
    }
}
