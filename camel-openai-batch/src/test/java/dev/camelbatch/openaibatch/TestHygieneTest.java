package dev.camelbatch.openaibatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rules every test of the build keeps, checked on the sources of all modules (so that they stay true as tests are
 * added): each test class has a class-level {@code @Timeout}, and surefire kills a forked JVM that hangs. A hang then
 * fails one test, or at worst one module's fork, instead of blocking the build until CI gives up.
 */
@Timeout(120)
class TestHygieneTest {

    private static final Pattern TEST_METHOD = Pattern.compile(
            "^\\s*@(Test|ParameterizedTest|RepeatedTest|TestFactory|TestTemplate)\\b", Pattern.MULTILINE);
    private static final Pattern COMMENTS = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

    /** The directory of the parent pom (the module's tests run in the module's directory). */
    static Path repositoryRoot() {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path pom = d.resolve("pom.xml");
            if (Files.isRegularFile(pom) && read(pom).contains("<artifactId>camel-openai-batch-parent</artifactId>")
                && Files.isDirectory(d.resolve("camel-openai-batch"))) {
                return d;
            }
        }
        throw new AssertionError("no parent pom above " + dir);
    }

    /** The test sources of every module (examples and benchmarks included), build output left out. */
    static List<Path> testSources(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                return !dir.equals(root) && (name.startsWith(".") || name.equals("target")
                                             || name.equals("node_modules"))
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String rel = root.relativize(file).toString().replace('\\', '/');
                if (rel.endsWith(".java") && rel.matches("(.+/)?src/test/java/.+")) {
                    out.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        out.sort(null);
        return out;
    }

    /** The annotations, modifiers and comments in front of a file's top-level class, or {@code null} if none. */
    static String classHeader(Path file, String source) {
        String name = file.getFileName().toString().replace(".java", "");
        Matcher m = Pattern.compile("^(?:public\\s+|abstract\\s+|final\\s+)*class\\s+" + Pattern.quote(name) + "\\b",
                Pattern.MULTILINE).matcher(source);
        if (!m.find()) {
            return null;
        }
        String before = source.substring(0, m.start());
        String code = COMMENTS.matcher(before).replaceAll("");
        int lastStatement = code.lastIndexOf(';');
        return lastStatement < 0 ? code : code.substring(lastStatement + 1);
    }

    @Test
    void everyTestClassOfEveryModuleHasAClassLevelTimeout() throws IOException {
        Path root = repositoryRoot();
        List<String> missing = new ArrayList<>();
        Set<String> modules = new TreeSet<>();
        int testClasses = 0;
        for (Path file : testSources(root)) {
            String source = read(file);
            if (!TEST_METHOD.matcher(COMMENTS.matcher(source).replaceAll("")).find()) {
                continue; // a helper, a child process or a base class without tests of its own
            }
            testClasses++;
            String rel = root.relativize(file).toString().replace('\\', '/');
            modules.add(rel.substring(0, rel.indexOf("/src/test/java/")));
            String header = classHeader(file, source);
            if (header == null || !header.matches("(?s).*@Timeout\\b.*")) {
                missing.add(rel);
            }
        }
        // the scan saw the modules it is meant to guard (a wrong root would make this test pass on nothing)
        assertThat(modules).contains("camel-openai-batch", "camel-openai-batch-simulator",
                "camel-openai-batch-spring-boot-starter");
        assertThat(testClasses).isGreaterThan(50);
        assertThat(missing).as("test classes without a class-level @Timeout (org.junit.jupiter.api.Timeout)")
                .isEmpty();
    }

    @Test
    void theHeaderCheckSeesOnlyClassLevelAnnotations() {
        Path file = Path.of("Sample.java");
        String withTimeout = "package p;\nimport org.junit.jupiter.api.Timeout;\n/** Uses @Test. */\n"
                             + "@Timeout(300)\nclass Sample {\n  @Test void t() { }\n}\n";
        String onMethodOnly = "package p;\nimport org.junit.jupiter.api.Timeout;\n/** Mentions @Timeout. */\n"
                              + "// @Timeout(1)\nclass Sample {\n  @Timeout(5)\n  @Test void t() { }\n}\n";
        assertThat(classHeader(file, withTimeout)).contains("@Timeout(300)");
        assertThat(classHeader(file, onMethodOnly)).doesNotContain("@Timeout");
    }

    @Test
    void surefireKillsAForkThatHangs() {
        String pom = read(repositoryRoot().resolve("pom.xml"));
        assertThat(pom).contains("<forkedProcessTimeoutInSeconds>").contains("<forkedProcessExitTimeoutInSeconds>");
        Matcher m = Pattern.compile("<surefire\\.forkTimeoutSeconds>(\\d+)</surefire\\.forkTimeoutSeconds>")
                .matcher(pom);
        assertThat(m.find()).as("surefire.forkTimeoutSeconds in the parent pom").isTrue();
        // long enough for the longest module, short enough that a hang never holds CI for long
        assertThat(Integer.parseInt(m.group(1))).isBetween(300, 1800);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
