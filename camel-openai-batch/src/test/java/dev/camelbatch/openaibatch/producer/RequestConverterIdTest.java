package dev.camelbatch.openaibatch.producer;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/** Generated custom ids: version-4 UUIDs, unique across threads. */
@Timeout(120)
class RequestConverterIdTest {

    @Test
    void idsAreVersion4UuidsAndUnique() {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        IntStream.range(0, 200_000).parallel().forEach(i -> assertThat(seen.add(RequestConverter.newId())).isTrue());
        Set<Integer> firstHexDigits = new HashSet<>();
        for (String id : seen) {
            assertThat(id).matches("req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
            UUID u = UUID.fromString(id.substring(4));
            assertThat(u.version()).isEqualTo(4);
            assertThat(u.variant()).isEqualTo(2);
            firstHexDigits.add(Character.digit(id.charAt(4), 16));
        }
        // random, not a counter: every leading digit occurs
        assertThat(firstHexDigits).hasSize(16);
    }
}
