package dev.camelbatch.openaibatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.store.BatchStore;
import dev.camelbatch.openaibatch.engine.store.SegmentInfo;
import dev.camelbatch.openaibatch.engine.store.SegmentStatus;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;

/** Test helper: reads the file store of an endpoint name directly, and builds contexts on a store directory. */
final class Spool {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private Spool() {
    }

    static Path segmentsDir(Path storeDir, String name) {
        return storeDir.resolve(name).resolve("segments");
    }

    /** The request (data) files of the name, by segment id, oldest first. */
    static Map<String, Path> dataFiles(Path storeDir, String name) {
        Path dir = segmentsDir(storeDir, name);
        Map<String, Path> files = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".jsonl")
                          && !p.getFileName().toString().endsWith(".carry.jsonl"))
                    .sorted()
                    .forEach(p -> {
                        String f = p.getFileName().toString();
                        files.put(f.substring(0, f.length() - ".jsonl".length()), p);
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /**
     * The raw lines of a file (split at newlines; a final line without newline is returned too). An open segment's
     * file that the store writes through a memory mapping ends with zero bytes until it is sealed: its data ends at
     * the first one.
     */
    static List<String> rawLines(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int zero = text.indexOf('\0');
            if (zero >= 0) {
                text = text.substring(0, zero);
            }
            List<String> lines = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < text.length(); i++) {
                if (text.charAt(i) == '\n') {
                    lines.add(text.substring(start, i));
                    start = i + 1;
                }
            }
            if (start < text.length()) {
                lines.add(text.substring(start));
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The bytes of data in a segment file: its size, or where the zero-filled tail of an open segment's file that
     * the store writes through a memory mapping begins.
     */
    static long dataLength(Path file) {
        try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            long n = 0;
            int b;
            while ((b = in.read()) > 0) {
                n++;
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    /** Request lines by segment id. */
    static Map<String, List<JsonNode>> linesBySegment(Path storeDir, String name) {
        Map<String, List<JsonNode>> map = new LinkedHashMap<>();
        dataFiles(storeDir, name).forEach((id, p) -> {
            List<JsonNode> lines = new ArrayList<>();
            for (String l : rawLines(p)) {
                lines.add(parse(l));
            }
            map.put(id, lines);
        });
        return map;
    }

    /** Every request line of the name. */
    static List<JsonNode> lines(Path storeDir, String name) {
        List<JsonNode> all = new ArrayList<>();
        linesBySegment(storeDir, name).values().forEach(all::addAll);
        return all;
    }

    static List<String> customIds(Path storeDir, String name) {
        List<String> ids = new ArrayList<>();
        for (JsonNode n : lines(storeDir, name)) {
            ids.add(n.path("custom_id").asText());
        }
        return ids;
    }

    /** The stored request line with this custom id, or null. */
    static JsonNode line(Path storeDir, String name, String customId) {
        for (JsonNode n : lines(storeDir, name)) {
            if (customId.equals(n.path("custom_id").asText())) {
                return n;
            }
        }
        return null;
    }

    /** The carried-header sidecar lines ({"c":id,"h":{...}}) of the name. */
    static List<JsonNode> carryLines(Path storeDir, String name) {
        Path dir = segmentsDir(storeDir, name);
        List<JsonNode> all = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(f -> f.getFileName().toString().endsWith(".carry.jsonl")).sorted().toList()) {
                for (String l : rawLines(p)) {
                    all.add(parse(l));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all;
    }

    /**
     * The live store of a name whose producer (or consumer) is started in the context: acquired through any endpoint
     * of that name (and store directory) and released again at once, so the started producer keeps it open.
     */
    static BatchStore store(CamelContext context, String uri) throws Exception {
        OpenAIBatchEndpoint endpoint = context.getEndpoint(uri, OpenAIBatchEndpoint.class);
        OpenAIBatchRuntime rt = endpoint.acquireRuntime();
        try {
            return rt.store();
        } finally {
            rt.release();
        }
    }

    static List<SegmentInfo> withStatus(BatchStore store, SegmentStatus status) {
        return store.segments().stream().filter(s -> s.getStatus() == status).toList();
    }

    /** A context with a configured openai-batch component on the store directory, routes added, started. */
    static CamelContext startContext(Path storeDir, String apiKey, String baseUrl, RouteBuilder routes)
            throws Exception {
        CamelContext context = new DefaultCamelContext();
        OpenAIBatchComponent component = new OpenAIBatchComponent();
        component.getConfiguration().setStoreDirectory(storeDir.toString());
        if (apiKey != null) {
            component.getConfiguration().setApiKey(apiKey);
        }
        if (baseUrl != null) {
            component.getConfiguration().setBaseUrl(baseUrl);
        }
        context.addComponent("openai-batch", component);
        if (routes != null) {
            context.addRoutes(routes);
        }
        context.start();
        return context;
    }
}
