package dev.camelbatch.examples.filedrop;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/** The demo's input: 50 product reviews with ids, and a small file with a bad row to show the refusal. */
public final class SampleReviews {

    public static final String SAMPLE_FILE = "reviews-sample.csv";
    public static final String BAD_FILE = "reviews-bad.csv";
    /** The line of {@link #BAD_FILE} whose review text is empty (the header is line 1). */
    public static final int BAD_LINE = 4;

    private static final String[] PRODUCTS = {"headphones", "coffee grinder", "desk lamp", "running shoes",
        "phone case", "backpack", "kettle", "keyboard", "water bottle", "office chair"};
    private static final String[] OPINIONS = {
        "The %s works perfectly, I love it.",
        "Terrible %s, it broke after two days.",
        "The %s is okay, it does what it says.",
        "Great value: this %s exceeded my expectations!",
        "I returned the %s, the quality is poor and support never answered."};

    private SampleReviews() {
    }

    /** Review id to text, 50 of them ("r001".."r050"), in order. */
    public static Map<String, String> reviews() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < 50; i++) {
            String product = PRODUCTS[i % PRODUCTS.length];
            String opinion = OPINIONS[(i / PRODUCTS.length + i) % OPINIONS.length];
            m.put(String.format("r%03d", i + 1), String.format(opinion, product));
        }
        return m;
    }

    /** Writes both files into {@code inbox} (each under a hidden name first, then renamed, so no half file is read). */
    public static List<Path> write(Path inbox) throws IOException {
        Files.createDirectories(inbox);
        List<Path> out = new ArrayList<>();
        List<String[]> rows = new ArrayList<>();
        reviews().forEach((id, text) -> rows.add(new String[] {id, text}));
        out.add(writeCsv(inbox, SAMPLE_FILE, rows));
        List<String[]> bad = new ArrayList<>();
        bad.add(new String[] {"b1", "Fast delivery, works fine."});
        bad.add(new String[] {"b2", "Meh, \"average\" at best, with a comma."});
        bad.add(new String[] {"b3", ""}); // line 4: empty review text
        bad.add(new String[] {"b4", "Never again."});
        out.add(writeCsv(inbox, BAD_FILE, bad));
        return out;
    }

    private static Path writeCsv(Path inbox, String name, List<String[]> rows) throws IOException {
        Path tmp = inbox.resolve("." + name + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
             CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setRecordSeparator('\n').get())) {
            p.printRecord("id", "review");
            for (String[] r : rows) {
                p.printRecord((Object[]) r);
            }
        }
        return Files.move(tmp, inbox.resolve(name), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }
}
