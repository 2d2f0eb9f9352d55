package dev.camelbatch.openaibatch.engine.lines;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Sorting output and error lines into request order, in memory and spilled to many runs. */
@Timeout(120)
class InputOrderSorterTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(longs = { 1L << 30, 4096, 1 })
    void linesComeInRequestOrderWhateverTheRunSize(long runBytes) throws Exception {
        int n = 2000;
        Map<String, Integer> ordinals = new HashMap<>();
        for (int i = 0; i < n; i++) {
            ordinals.put("req-" + i, i);
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(runBytes));
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        for (int i : order) {
            StringBuilder target = i % 7 == 0 ? err : out;
            // the custom id in second place, as OpenAI writes it (not the fast path of the id reader)
            target.append("{\"id\":\"batch_req_").append(i).append("\",\"custom_id\":\"req-").append(i)
                    .append("\",\"n\":").append(i).append("}\n");
        }
        // a line for an unknown id and an unparsable one come last, in the order read
        out.append("{\"custom_id\":\"stranger\"}\n");
        err.append("garbage\n");
        Path outFile = Files.writeString(dir.resolve("o.jsonl"), out);
        Path errFile = Files.writeString(dir.resolve("e.jsonl"), err);
        Path target = dir.resolve("sorted.jsonl");
        long written = new InputOrderSorter(MAPPER, ordinals, runBytes, 1 << 20).sort(List.of(outFile, errFile),
                target);

        List<String> lines = Files.readAllLines(target);
        // every line is kept: the sequence depends on the files alone (the engine skips retried lines itself)
        assertThat(written).isEqualTo(lines.size()).isEqualTo(n + 2);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            expected.add("req-" + i);
        }
        expected.add("stranger");
        expected.add("");
        assertThat(lines.stream().map(l -> RequestLines.customId(MAPPER, l.getBytes())).collect(Collectors.toList()))
                .isEqualTo(expected);
        // no run file or partial file is left behind
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("o.jsonl", "e.jsonl",
                    "sorted.jsonl");
        }
    }

    @Test
    void duplicatesKeepTheirOrderAndTheResultIsDeterministic() throws Exception {
        Map<String, Integer> ordinals = Map.of("a", 0, "b", 1);
        Path out = Files.writeString(dir.resolve("o.jsonl"),
                "{\"custom_id\":\"b\",\"v\":1}\n{\"custom_id\":\"a\",\"v\":2}\n{\"custom_id\":\"b\",\"v\":3}\n"
                                                        + "{\"custom_id\":\"a\",\"v\":4}\n");
        Path t1 = dir.resolve("s1.jsonl");
        Path t2 = dir.resolve("s2.jsonl");
        new InputOrderSorter(MAPPER, ordinals, 1, 1 << 20).sort(List.of(out), t1);
        new InputOrderSorter(MAPPER, ordinals, 1 << 20, 1 << 20).sort(List.of(out), t2);
        assertThat(Files.readAllLines(t1)).containsExactly("{\"custom_id\":\"a\",\"v\":2}",
                "{\"custom_id\":\"a\",\"v\":4}", "{\"custom_id\":\"b\",\"v\":1}", "{\"custom_id\":\"b\",\"v\":3}");
        assertThat(Files.readAllLines(t2)).isEqualTo(Files.readAllLines(t1));
    }
}
