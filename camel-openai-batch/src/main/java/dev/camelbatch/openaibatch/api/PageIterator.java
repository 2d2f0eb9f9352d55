package dev.camelbatch.openaibatch.api;

import java.util.Iterator;
import java.util.List;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lazily fetches page after page; a failure surfaces from {@code hasNext()}/{@code next()}, and so does an
 * {@link IllegalStateException} once {@code maxPages} pages were fetched and the last one still announces more.
 */
final class PageIterator<T> implements Iterator<T> {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAIBatchClient.class);


    static final class Page<T> {
        final List<T> items;
        final boolean hasMore;
        final String nextCursor;

        Page(List<T> items, boolean hasMore, String nextCursor) {
            this.items = items;
            this.hasMore = hasMore;
            this.nextCursor = nextCursor;
        }
    }

    private final String what;
    private final int maxPages;
    private final Function<String, Page<T>> fetcher;
    private Iterator<T> current;
    private String cursor;
    private boolean more = true;
    private int pages;

    PageIterator(String what, int maxPages, Function<String, Page<T>> fetcher) {
        this.what = what;
        this.maxPages = maxPages;
        this.fetcher = fetcher;
    }

    @Override
    public boolean hasNext() {
        while ((current == null || !current.hasNext()) && more) {
            if (pages >= maxPages) {
                more = false;
                LOG.warn("{}: stopped after {} pages; the server still answered has_more=true", what, pages);
                throw new IllegalStateException(what + ": stopped after " + pages + " pages; the server still"
                        + " answered has_more=true (at most " + maxPages + " pages are listed)");
            }
            pages++;
            Page<T> page = fetcher.apply(cursor);
            current = page.items.iterator();
            String next = page.nextCursor;
            // stop on an empty page, no more pages, or a cursor that does not advance
            more = page.hasMore && !page.items.isEmpty() && next != null && !next.equals(cursor);
            cursor = next;
        }
        return current != null && current.hasNext();
    }

    @Override
    public T next() {
        if (!hasNext()) {
            throw new java.util.NoSuchElementException();
        }
        return current.next();
    }
}
