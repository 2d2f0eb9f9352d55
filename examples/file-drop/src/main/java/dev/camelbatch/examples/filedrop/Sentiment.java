package dev.camelbatch.examples.filedrop;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the model's answer: one of positive, negative, neutral, or (anything else) the answer itself. */
public final class Sentiment {

    private static final Pattern ONE_WORD = Pattern.compile("^\\W*(positive|negative|neutral)\\W*$",
            Pattern.CASE_INSENSITIVE);

    private Sentiment() {
    }

    /** {@code positive}, {@code negative} or {@code neutral} when the answer is that word, else the answer trimmed. */
    public static String of(String answer) {
        if (answer == null) {
            return "";
        }
        Matcher m = ONE_WORD.matcher(answer.strip());
        return m.matches() ? m.group(1).toLowerCase(Locale.ROOT) : answer.strip();
    }

    /** The category counted in the summary: the sentiment word, or {@code other}. */
    public static String category(String sentiment) {
        return switch (sentiment) {
            case "positive", "negative", "neutral" -> sentiment;
            default -> "other";
        };
    }
}
