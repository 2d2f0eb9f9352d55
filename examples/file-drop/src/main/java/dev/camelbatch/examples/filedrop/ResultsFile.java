package dev.camelbatch.examples.filedrop;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * {@code outbox/results.csv}: one row per result ({@code id,file,sentiment}), appended and flushed before the result
 * exchange completes, so that a result counts as delivered only once it is in the file. After a crash the lines in
 * flight can come twice (at-least-once): readers keep the last row of an (id, file) pair.
 */
public final class ResultsFile implements AutoCloseable {

    public static final String[] HEADER = {"id", "file", "sentiment"};

    private final Path path;
    private CSVPrinter printer;

    public ResultsFile(Path path, boolean truncate) throws IOException {
        this.path = path;
        Files.createDirectories(path.getParent());
        boolean fresh = truncate || !Files.exists(path) || Files.size(path) == 0;
        BufferedWriter w = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, truncate ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
        this.printer = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setRecordSeparator('\n').get());
        if (fresh) {
            printer.printRecord((Object[]) HEADER);
            printer.flush();
        }
    }

    public Path path() {
        return path;
    }

    public synchronized void append(String id, String file, String sentiment) throws IOException {
        if (printer == null) {
            throw new IOException("results file closed");
        }
        printer.printRecord(id, file, sentiment);
        printer.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        if (printer != null) {
            printer.close();
            printer = null;
        }
    }
}
