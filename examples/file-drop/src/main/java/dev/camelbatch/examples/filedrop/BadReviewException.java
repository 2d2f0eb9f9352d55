package dev.camelbatch.examples.filedrop;

import java.io.IOException;

/** A row of a review file that cannot become a request; the whole file is refused. */
public class BadReviewException extends IOException {

    private final long line;

    public BadReviewException(long line, String message) {
        super("line " + line + ": " + message);
        this.line = line;
    }

    /** The 1-based line of the review file (for a CSV, the line where the row starts; the header is line 1). */
    public long getLine() {
        return line;
    }
}
