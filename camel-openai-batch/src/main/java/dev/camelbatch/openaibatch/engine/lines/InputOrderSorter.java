package dev.camelbatch.openaibatch.engine.lines;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.camelbatch.openaibatch.engine.io.PrivateFiles;

/**
 * Puts the lines of a batch's output and error files into the order of the batch's requests (the service writes them
 * in any order), with bounded memory: lines are collected up to {@code runBytes}, sorted and spilled to a run file;
 * the runs are then merged into the target file. Lines whose custom id is not a request of the batch come last, in
 * the order they were read; lines that share a custom id stay in the order they were read.
 * <p>
 * Every line is kept (the caller skips what it must not emit), so the result depends on the files alone: a restart or
 * another node that sorts again (or finds the target already there) continues from the same checkpoint.
 */
public final class InputOrderSorter {

    private record Line(int ordinal, long seq, byte[] bytes) {
    }

    private static final Comparator<Line> ORDER = Comparator.comparingInt(Line::ordinal)
            .thenComparingLong(Line::seq);

    private final ObjectMapper mapper;
    private final Map<String, Integer> ordinals;
    private final long runBytes;
    private final long maxLineBytes;

    /**
     * @param ordinals the 0-based position of each custom id among the batch's requests
     * @param runBytes how many bytes of lines are sorted in memory at most before they are spilled to disk
     */
    public InputOrderSorter(ObjectMapper mapper, Map<String, Integer> ordinals, long runBytes, long maxLineBytes) {
        this.mapper = mapper;
        this.ordinals = ordinals;
        this.runBytes = runBytes;
        this.maxLineBytes = maxLineBytes;
    }

    /** Writes the sorted lines to {@code target} (atomically: complete or not there); returns how many. */
    public long sort(List<Path> inputs, Path target) throws IOException {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        List<Path> runs = new ArrayList<>();
        List<Line> buffer = new ArrayList<>();
        long bytes = 0;
        long seq = 0;
        long written;
        try {
            for (Path in : inputs) {
                try (InputStream is = Files.newInputStream(in)) {
                    LineReader r = new LineReader(is, 1 << 16, maxLineBytes);
                    byte[] line;
                    while ((line = r.next()) != null) {
                        buffer.add(new Line(ordinal(RequestLines.customId(mapper, line)), seq++, line));
                        bytes += line.length + 48;
                        if (bytes >= runBytes) {
                            Path run = target.resolveSibling(target.getFileName() + ".run" + runs.size());
                            // listed before it is written, so that a failed spill is cleaned up too
                            runs.add(run);
                            spill(buffer, run);
                            buffer.clear();
                            bytes = 0;
                        }
                    }
                }
            }
            if (runs.isEmpty()) {
                buffer.sort(ORDER);
                written = write(buffer, part);
            } else {
                if (!buffer.isEmpty()) {
                    Path run = target.resolveSibling(target.getFileName() + ".run" + runs.size());
                    runs.add(run);
                    spill(buffer, run);
                    buffer.clear();
                }
                written = merge(runs, part);
            }
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            for (Path run : runs) {
                Files.deleteIfExists(run);
            }
            Files.deleteIfExists(part);
        }
        return written;
    }

    private int ordinal(String customId) {
        Integer o = ordinals.get(customId);
        return o != null ? o : Integer.MAX_VALUE;
    }

    private static void spill(List<Line> buffer, Path run) throws IOException {
        buffer.sort(ORDER);
        write(buffer, run);
    }

    private static long write(List<Line> lines, Path file) throws IOException {
        try (OutputStream out = new BufferedOutputStream(PrivateFiles.newOutputStream(file), 1 << 16)) {
            for (Line l : lines) {
                out.write(l.bytes());
                out.write('\n');
            }
        }
        return lines.size();
    }

    /** A run being merged: its reader and its current (smallest unmerged) line. */
    private final class Head {
        final int run;
        final InputStream in;
        final LineReader reader;
        byte[] line;
        int ordinal;

        Head(int run, Path file) throws IOException {
            this.run = run;
            this.in = Files.newInputStream(file);
            this.reader = new LineReader(in, 1 << 16, maxLineBytes);
        }

        boolean advance() throws IOException {
            line = reader.next();
            if (line == null) {
                in.close();
                return false;
            }
            ordinal = ordinal(RequestLines.customId(mapper, line));
            return true;
        }
    }

    /** Merges sorted runs; runs hold consecutive stretches of the input, so ties go to the earlier run. */
    private long merge(List<Path> runs, Path target) throws IOException {
        PriorityQueue<Head> heads = new PriorityQueue<>(Comparator.<Head> comparingInt(h -> h.ordinal)
                .thenComparingInt(h -> h.run));
        List<Head> all = new ArrayList<>();
        long n = 0;
        try (OutputStream out = new BufferedOutputStream(PrivateFiles.newOutputStream(target), 1 << 16)) {
            for (int i = 0; i < runs.size(); i++) {
                Head h = new Head(i, runs.get(i));
                all.add(h);
                if (h.advance()) {
                    heads.add(h);
                }
            }
            Head h;
            while ((h = heads.poll()) != null) {
                out.write(h.line);
                out.write('\n');
                n++;
                if (h.advance()) {
                    heads.add(h);
                }
            }
        } finally {
            for (Head h : all) {
                h.in.close();
            }
        }
        return n;
    }
}
