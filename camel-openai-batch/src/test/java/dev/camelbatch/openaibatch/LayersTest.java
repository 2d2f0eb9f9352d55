package dev.camelbatch.openaibatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lower layers never import higher ones: the API client knows neither the engine nor Camel; the engine does not
 * know Camel or the component's Camel face; inside the engine each package imports only the packages beneath it
 * ({@link #ENGINE_LAYERS}). And only {@code SegmentLifecycle} changes a segment's status (a store restores a status it
 * reads back, which is not a change).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LayersTest {

    private static final Path MAIN = Path.of("src", "main", "java", "dev", "camelbatch", "openaibatch");
    private static final Pattern IMPORT = Pattern.compile("^import (static )?([\\w.]+);", Pattern.MULTILINE);
    private static final String BASE = "dev.camelbatch.openaibatch.";

    /** Each engine package and the component packages it may import (besides its own). */
    static final Map<String, Set<String>> ENGINE_LAYERS = Map.of(
            "engine.io", Set.of(),
            "engine.usage", Set.of("api", "engine.io"),
            "engine.lines", Set.of("api", "engine.io", "engine.usage"),
            "engine.store", Set.of("api", "engine.io", "engine.usage", "engine.lines"),
            "engine.store.file", Set.of("api", "engine.io", "engine.usage", "engine.lines", "engine.store"),
            "engine.store.jdbc", Set.of("api", "engine.io", "engine.usage", "engine.lines", "engine.store"),
            "engine", Set.of("api", "engine.io", "engine.usage", "engine.lines", "engine.store"));

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
    void eachEnginePackageImportsOnlyThePackagesBeneathIt() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (Path p : javaFiles(MAIN.resolve("engine"))) {
            String source = Files.readString(p);
            String pkg = packageOf(source);
            Set<String> allowed = ENGINE_LAYERS.get(pkg);
            assertThat(allowed).as("layer of package %s (%s)", pkg, p).isNotNull();
            Matcher m = IMPORT.matcher(source);
            while (m.find()) {
                String imported = m.group(2);
                if (imported.startsWith(BASE)) {
                    String target = packageOf(imported.substring(BASE.length()));
                    if (!target.equals(pkg) && !allowed.contains(target)) {
                        offenders.add(pkg + " -> " + imported + " (" + p.getFileName() + ")");
                    }
                }
            }
        }
        assertThat(offenders).as("imports of a higher engine layer").isEmpty();
    }

    @Test
    void everyPackageSaysWhatItIsFor() throws IOException {
        try (Stream<Path> s = Files.walk(MAIN)) {
            List<Path> dirs = s.filter(Files::isDirectory).filter(LayersTest::holdsClasses).toList();
            assertThat(dirs).isNotEmpty().allSatisfy(d -> assertThat(d.resolve("package-info.java")).exists());
        }
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

    /** The package of a source file (its package line), or of a class name relative to the base package. */
    private static String packageOf(String sourceOrRelativeName) {
        Matcher m = Pattern.compile("^package " + Pattern.quote(BASE) + "([\\w.]+);", Pattern.MULTILINE)
                .matcher(sourceOrRelativeName);
        if (m.find()) {
            return m.group(1);
        }
        // a relative class name: the lower-case segments before the first upper-case one
        StringBuilder pkg = new StringBuilder();
        for (String part : sourceOrRelativeName.split("\\.")) {
            if (Character.isUpperCase(part.charAt(0))) {
                break;
            }
            pkg.append(pkg.isEmpty() ? "" : ".").append(part);
        }
        return pkg.toString();
    }

    private static boolean holdsClasses(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.toString().endsWith(".java"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A class of the Camel face: the top package and its producer, consumer and monitor packages. */
    private static boolean isCamelFace(String imported) {
        return imported.matches("dev\\.camelbatch\\.openaibatch\\.((producer|consumer|monitor)\\.)?[A-Z]\\w*(\\..*)?");
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
