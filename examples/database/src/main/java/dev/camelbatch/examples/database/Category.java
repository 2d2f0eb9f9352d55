package dev.camelbatch.examples.database;

import java.util.Locale;
import java.util.Set;

/** The category written to a ticket: a known category word, else the model's answer as it is (cut to fit). */
public final class Category {

    public static final Set<String> KNOWN = Set.of("billing", "shipping", "technical", "account", "other");
    static final int COLUMN_SIZE = 255;

    private Category() {
    }

    public static String of(String answer) {
        if (answer == null) {
            return "";
        }
        String word = answer.strip().replaceAll("^\\W+|\\W+$", "").toLowerCase(Locale.ROOT);
        if (KNOWN.contains(word)) {
            return word;
        }
        String a = answer.strip();
        return a.length() > COLUMN_SIZE ? a.substring(0, COLUMN_SIZE) : a;
    }

    /** What a failed request leaves in the column (set it back to NULL to try again). */
    public static String error(String code) {
        String e = "error: " + code;
        return e.length() > COLUMN_SIZE ? e.substring(0, COLUMN_SIZE) : e;
    }
}
