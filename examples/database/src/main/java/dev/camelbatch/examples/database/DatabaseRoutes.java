package dev.camelbatch.examples.database;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.camelbatch.openaibatch.OpenAIBatchConstants;
import dev.camelbatch.openaibatch.engine.store.DuplicateCustomIdException;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes of the example.
 * <ol>
 * <li>{@code scan}: every {@code scanInterval} a timer selects the tickets without a category and spools one
 * classification request per row, with the primary key as the carried header {@code ticketId} and in the
 * {@code custom_id} ({@code ticket-<id>}). A ticket spooled earlier and not answered yet is skipped: this JVM
 * remembers what it spooled, and after a restart the producer refuses a custom id that is still in flight.</li>
 * <li>{@code results}: each result updates the same row by its key:
 * {@code UPDATE tickets SET category = :#category WHERE id = :#ticketId}.</li>
 * </ol>
 */
public class DatabaseRoutes extends RouteBuilder {

    static final Logger LOG = LoggerFactory.getLogger("database");
    public static final String TICKET_ID = "ticketId";
    public static final String SYSTEM_MESSAGE = "Classify the customer support ticket into exactly one category:"
                                                + " billing, shipping, technical, account or other. Answer with the"
                                                + " category only.";

    private final DatabaseSettings settings;
    /** Tickets spooled by this JVM and still selected by the last scan (so, not answered yet). */
    private final Set<Long> spooled = ConcurrentHashMap.newKeySet();
    /** Tickets the current scan selected. */
    private final Set<Long> seen = ConcurrentHashMap.newKeySet();
    private final AtomicLong updated = new AtomicLong();
    private volatile Runnable afterUpdate = () -> { };

    public DatabaseRoutes(DatabaseSettings settings) {
        this.settings = settings;
    }

    /** Called after every row update (the demo checks whether any ticket is left). */
    public void afterUpdate(Runnable r) {
        this.afterUpdate = r;
    }

    public long updated() {
        return updated.get();
    }

    @Override
    public void configure() {
        from("timer:scan?period=" + settings.scanInterval().toMillis() + "&delay=0")
                .routeId("scan")
                .process(e -> seen.clear())
                .to("sql:SELECT id, text FROM tickets WHERE category IS NULL ORDER BY id?outputType=StreamList")
                .split(body()).streaming()
                    .process(this::toRequest)
                    .filter(exchangeProperty("skip").isNotEqualTo(true))
                        .doTry()
                            .to("openai-batch:tickets?model=" + settings.model() + "&systemMessage=RAW("
                                + SYSTEM_MESSAGE + ")&carryHeaders=" + TICKET_ID + "&flushOnSplitComplete=true")
                            .process(this::spooled)
                        .doCatch(DuplicateCustomIdException.class)
                            // spooled before a restart and still in flight
                            .process(this::spooled)
                        .end()
                    .end()
                .end()
                .process(e -> {
                    // tickets no longer selected have their category: forget them (a ticket set back to NULL
                    // by hand is then classified again)
                    spooled.retainAll(seen);
                });

        from("openai-batch:tickets")
                .routeId("results")
                .process(this::category)
                .to("sql:UPDATE tickets SET category = :#category WHERE id = :#" + TICKET_ID)
                .process(e -> {
                    updated.incrementAndGet();
                    afterUpdate.run();
                });
    }

    private void toRequest(Exchange exchange) {
        Map<?, ?> row = exchange.getMessage().getBody(Map.class);
        long id = ((Number) column(row, "id")).longValue();
        seen.add(id);
        if (spooled.contains(id)) {
            exchange.setProperty("skip", true);
            return;
        }
        Message m = exchange.getMessage();
        m.setHeader(TICKET_ID, id);
        m.setHeader(OpenAIBatchConstants.CUSTOM_ID, "ticket-" + id);
        m.setBody(String.valueOf(column(row, "text")));
    }

    /** A column of a row map, whatever case the database gives its names (H2 upper, PostgreSQL lower). */
    static Object column(Map<?, ?> row, String name) {
        for (Map.Entry<?, ?> e : row.entrySet()) {
            if (name.equalsIgnoreCase(String.valueOf(e.getKey()))) {
                return e.getValue();
            }
        }
        throw new IllegalArgumentException("no column " + name + " in " + row.keySet());
    }

    private void spooled(Exchange exchange) {
        Long id = exchange.getMessage().getHeader(TICKET_ID, Long.class);
        spooled.add(id);
        LOG.debug("ticket {} spooled", id);
    }

    private void category(Exchange exchange) {
        Message m = exchange.getMessage();
        boolean error = m.getHeader(OpenAIBatchConstants.IS_ERROR, false, Boolean.class);
        String category = error ? Category.error(m.getHeader(OpenAIBatchConstants.ERROR_CODE, String.class))
                : Category.of(m.getBody(String.class));
        m.setHeader("category", category);
        LOG.debug("ticket {}: {}", m.getHeader(TICKET_ID), category);
    }
}
