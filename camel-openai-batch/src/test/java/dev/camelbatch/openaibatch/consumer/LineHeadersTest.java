package dev.camelbatch.openaibatch.consumer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.util.CaseInsensitiveMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/** The consumer's lazily filled header map behaves as Camel's case-insensitive map filled with the same puts. */
@Timeout(300)
class LineHeadersTest {

    private static final List<Object[]> PAIRS = List.of(
            new Object[] { "ticketId", "T-1" },
            new Object[] { "CamelOpenAIBatchCustomId", "carried-value" },
            new Object[] { "seq", 7 },
            new Object[] { "CamelOpenAIBatchCustomId", "r-1" },
            new Object[] { "CamelOpenAIBatchErrorCode", null },
            new Object[] { "CamelOpenAIBatchIsError", false },
            new Object[] { "Ünïcode-Name", "u" },
            // the same name again in another case, after the constant: the later wins for a lookup by the constant
            new Object[] { "SEQ", 8 });

    private static LineHeaders lazy() {
        LineHeaders h = new LineHeaders();
        for (Object[] p : PAIRS) {
            h.put((String) p[0], p[1]);
        }
        return h.seal();
    }

    private static CaseInsensitiveMap plain() {
        CaseInsensitiveMap m = new CaseInsensitiveMap();
        for (Object[] p : PAIRS) {
            m.put((String) p[0], p[1]);
        }
        return m;
    }

    @Test
    void readsBeforeFillingAnswerAsTheMapWould() {
        LineHeaders h = lazy();
        CaseInsensitiveMap m = plain();
        for (String k : List.of("ticketId", "TICKETID", "camelopenaibatchcustomid", "seq", "Seq",
                "CamelOpenAIBatchErrorCode", "camelOpenAIBatchIsError", "ünïcode-name", "missing", "")) {
            assertThat(h.get(k)).as(k).isEqualTo(m.get(k));
            assertThat(h.containsKey(k)).as(k).isEqualTo(m.containsKey(k));
            assertThat(h.getOrDefault(k, "dflt")).as(k).isEqualTo(m.getOrDefault(k, "dflt"));
        }
        // keys that are not names: as the plain map answers them (whatever that is)
        for (Object odd : new Object[] { 42, null }) {
            assertThat(outcome(() -> lazy().get(odd))).isEqualTo(outcome(() -> plain().get(odd)));
            assertThat(outcome(() -> lazy().containsKey(odd))).isEqualTo(outcome(() -> plain().containsKey(odd)));
        }
        // the later of two equal names wins, as with put
        assertThat(h.get("CamelOpenAIBatchCustomId")).isEqualTo("r-1");
    }

    private static Object outcome(java.util.function.Supplier<Object> call) {
        try {
            return String.valueOf(call.get());
        } catch (RuntimeException e) {
            return e.getClass();
        }
    }

    @Test
    void everythingElseBehavesAsTheFilledMap() throws Exception {
        CaseInsensitiveMap m = plain();
        assertThat(lazy().size()).isEqualTo(m.size());
        assertThat(lazy().isEmpty()).isFalse();
        assertThat(new HashMap<>(lazy())).isEqualTo(new HashMap<>(m));
        assertThat(lazy().entrySet()).isEqualTo(m.entrySet());
        assertThat(lazy().keySet()).containsExactlyInAnyOrderElementsOf(m.keySet());
        assertThat(lazy().containsValue("T-1")).isTrue();
        assertThat(lazy()).isEqualTo(m);
        assertThat(m).isEqualTo(lazy());
        assertThat(lazy().hashCode()).isEqualTo(m.hashCode());

        LineHeaders h = lazy();
        assertThat(h.get("seq")).isEqualTo(8);
        assertThat(h.put("seq", 9)).isEqualTo(8);
        assertThat(h.get("SEQ")).isEqualTo(9);
        assertThat(h.remove("TicketId")).isEqualTo("T-1");
        assertThat(h.containsKey("ticketId")).isFalse();
        h.putAll(Map.of("new", "n"));
        assertThat(h.get("NEW")).isEqualTo("n");
        h.clear();
        assertThat(h).isEmpty();

        LineHeaders removedFirst = lazy();
        removedFirst.remove("seq");
        assertThat(removedFirst.get("ticketId")).isEqualTo("T-1");
        assertThat(removedFirst.size()).isEqualTo(m.size() - 1);

        // copies, as Camel makes them for a copied exchange
        assertThat(new CaseInsensitiveMap(lazy())).isEqualTo(m);

        // serialised as the plain map
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(lazy());
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            Object back = in.readObject();
            assertThat(back).isExactlyInstanceOf(CaseInsensitiveMap.class).isEqualTo(m);
        }
    }

    @Test
    void isTakenAsTheMessageHeadersAndWorksThroughCamel() {
        DefaultCamelContext context = new DefaultCamelContext();
        context.start();
        try {
            throughCamel(context);
        } finally {
            context.stop();
        }
    }

    private static void throughCamel(DefaultCamelContext context) {
        Exchange exchange = new DefaultExchange(context);
        LineHeaders h = lazy();
        exchange.getMessage().setHeaders(h);
        assertThat(exchange.getMessage().getHeaders()).isSameAs(h);
        assertThat(exchange.getMessage().getHeader("ticketid", String.class)).isEqualTo("T-1");
        assertThat(exchange.getMessage().getHeader("seq", String.class)).isEqualTo("8");
        exchange.getMessage().setHeader("Added", "a");
        exchange.getMessage().removeHeader("seq");
        Exchange copy = exchange.copy();
        assertThat(copy.getMessage().getHeaders()).containsEntry("added", "a").containsEntry("TICKETID", "T-1")
                .doesNotContainKey("seq").containsEntry("CamelOpenAIBatchCustomId", "r-1");
        assertThat(exchange.getMessage().removeHeaders("CamelOpenAIBatch*")).isTrue();
        assertThat(exchange.getMessage().getHeaders()).containsOnlyKeys("ticketId", "Ünïcode-Name", "Added");
    }
}
