package dev.camelbatch.examples.filedrop;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The whole example on the in-process simulator: the demo as a user runs it, and files dropped while it runs. */
@Timeout(300)
class FileDropApplicationTest {

    @TempDir
    Path dir;

    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    @AfterEach
    void tearDown() {
        executor.shutdownNow();
    }

    private static FileDropSettings fast(FileDropSettings s) {
        return s.withTimings(Duration.ofMillis(50), Duration.ofMillis(50), false);
    }

    static List<CSVRecord> readResults(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r).getRecords();
        }
    }

    @Test
    void demoClassifiesTheSampleMovesFilesAndExitsByItself() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        FileDropApplication app = new FileDropApplication(fast(FileDropSettings.demo(dir)),
                new PrintStream(console, true, StandardCharsets.UTF_8));
        Future<Boolean> run = executor.submit(app::run);
        // the demo stops by itself once every accepted review has its result
        assertThat(run.get(30, TimeUnit.SECONDS)).isTrue();

        Map<String, String> expected = SampleReviews.reviews();
        List<CSVRecord> rows = readResults(dir.resolve("outbox/results.csv"));
        assertThat(rows).hasSize(expected.size());
        Map<String, String> byId = new HashMap<>();
        for (CSVRecord row : rows) {
            assertThat(row.get("file")).isEqualTo(SampleReviews.SAMPLE_FILE);
            assertThat(byId.put(row.get("id"), row.get("sentiment"))).as("id %s once", row.get("id")).isNull();
        }
        // the simulator answers "Echo: <prompt>": each row's answer is its own review, joined by the row id
        expected.forEach((id, text) -> assertThat(byId.get(id)).isEqualTo("Echo: " + text));

        assertThat(dir.resolve("inbox/.done/" + SampleReviews.SAMPLE_FILE)).exists();
        assertThat(dir.resolve("inbox/.error/" + SampleReviews.BAD_FILE)).exists();
        assertThat(dir.resolve("inbox/" + SampleReviews.SAMPLE_FILE)).doesNotExist();
        assertThat(dir.resolve("inbox/" + SampleReviews.BAD_FILE)).doesNotExist();
        assertThat(app.progress().refused()).singleElement().asString()
                .startsWith(SampleReviews.BAD_FILE + ": line " + SampleReviews.BAD_LINE + ": ")
                .contains("empty");

        String out = console.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("Done: 50 of 50 reviews classified")
                .contains("| Prompt").contains("| Completion").contains("| Total").contains("$")
                .contains("Results: " + dir.resolve("outbox/results.csv"));
        assertThat(app.progress().promptTokens()).isPositive();
        assertThat(app.progress().totalTokens())
                .isEqualTo(app.progress().promptTokens() + app.progress().completionTokens());
    }

    @Test
    void filesDroppedWhileRunningCsvJsonlAndRefusedOnes() throws Exception {
        FileDropSettings settings = fast(FileDropSettings.demo(dir)).withSamples(false, false);
        FileDropApplication app = new FileDropApplication(settings, new PrintStream(new ByteArrayOutputStream()));
        Future<Boolean> run = executor.submit(app::run);
        Path inbox = dir.resolve("inbox");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.isDirectory(inbox));

        drop(inbox, "a.jsonl", "{\"id\": 1, \"review\": \"Love it\"}\n\n{\"id\": \"two\", \"text\": \"Hate it\"}\n");
        // a quoted field spanning two lines, a comma and quotes inside, extra column, BOM
        drop(inbox, "b.csv", "\uFEFFid,stars,review\nx1,5,\"Good,\nreally \"\"good\"\"\"\nx2,1,Bad\n");
        // refused by the producer (a custom id repeats): the file's line is found again from the request line
        drop(inbox, "dup.csv", "id,review\nd1,fine\nd2,ok\nd1,again\n");
        // refused by the reader: unterminated quote
        drop(inbox, "broken.csv", "id,review\ne1,fine\ne2,\"never closed\n");

        await().atMost(Duration.ofSeconds(20)).until(() -> app.progress().filesHandled() == 4
                                                          && app.progress().results() == 4);
        app.stop();
        assertThat(run.get(20, TimeUnit.SECONDS)).isTrue();

        Map<String, String> got = new HashMap<>();
        for (CSVRecord row : readResults(dir.resolve("outbox/results.csv"))) {
            got.put(row.get("file") + "/" + row.get("id"), row.get("sentiment"));
        }
        assertThat(got).containsOnly(
                Map.entry("a.jsonl/1", "Echo: Love it"),
                Map.entry("a.jsonl/two", "Echo: Hate it"),
                Map.entry("b.csv/x1", "Echo: Good,\nreally \"good\""),
                Map.entry("b.csv/x2", "Echo: Bad"));
        assertThat(dir.resolve("inbox/.done/a.jsonl")).exists();
        assertThat(dir.resolve("inbox/.done/b.csv")).exists();
        assertThat(dir.resolve("inbox/.error/dup.csv")).exists();
        assertThat(dir.resolve("inbox/.error/broken.csv")).exists();
        assertThat(app.progress().refused()).anySatisfy(r -> assertThat(r).startsWith("dup.csv: line 4: "))
                .anySatisfy(r -> assertThat(r).startsWith("broken.csv: line 3: "));
    }

    private static void drop(Path inbox, String name, String content) throws Exception {
        Path tmp = inbox.resolve("." + name + ".part");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, inbox.resolve(name));
    }
}
