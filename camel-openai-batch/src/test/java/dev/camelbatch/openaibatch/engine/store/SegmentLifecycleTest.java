package dev.camelbatch.openaibatch.engine.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The table of a segment's moves: enforced, complete, and the diagram of docs/concepts.md. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SegmentLifecycleTest {

    @Test
    void aMoveTheTableDoesNotHaveThrows() {
        SegmentInfo s = SegmentInfo.create("n", "/v1/chat/completions", "m", SegmentStatus.OPEN, 0);
        assertThatThrownBy(() -> SegmentLifecycle.move(s, SegmentStatus.SUBMITTED))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("from OPEN to SUBMITTED");
        assertThat(s.getStatus()).isEqualTo(SegmentStatus.OPEN);
        SegmentLifecycle.move(s, SegmentStatus.SEALED);
        assertThat(s.getStatus()).isEqualTo(SegmentStatus.SEALED);
        assertThatThrownBy(() -> SegmentLifecycle.move(s, SegmentStatus.SEALED))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> SegmentInfo.create("n", "e", "m", SegmentStatus.SUBMITTED, 0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("cannot begin as SUBMITTED");
    }

    @Test
    void theMainPathIsWalkedOneLegalMoveAtATime() {
        SegmentInfo s = SegmentInfo.create("n", "/v1/chat/completions", "m", SegmentStatus.SEALED, 0);
        SegmentLifecycle.advance(s, SegmentStatus.FINISHED);
        assertThat(s.getStatus()).isEqualTo(SegmentStatus.FINISHED);
        assertThatThrownBy(() -> SegmentLifecycle.advance(s, SegmentStatus.UPLOADING))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void everyStatusIsReachedAndLeft() {
        Set<SegmentStatus> reached = EnumSet.noneOf(SegmentStatus.class);
        Set<SegmentStatus> left = EnumSet.noneOf(SegmentStatus.class);
        for (SegmentLifecycle.Move m : SegmentLifecycle.moves()) {
            if (m.to() != null) {
                reached.add(m.to());
            }
            if (m.from() != null) {
                left.add(m.from());
            }
        }
        assertThat(reached).containsExactlyInAnyOrder(SegmentStatus.values());
        assertThat(left).containsExactlyInAnyOrder(SegmentStatus.values());
    }

    @Test
    void theConceptsDiagramIsTheTable() throws Exception {
        String concepts = Files.readString(Path.of("..", "docs", "concepts.md"));
        String section = concepts.substring(concepts.indexOf("## The life of a segment"));
        int start = section.indexOf("```mermaid\n") + "```mermaid\n".length();
        String diagram = section.substring(start, section.indexOf("\n```", start));
        assertThat(diagram).as("docs/concepts.md, the life of a segment").isEqualTo(SegmentLifecycle.mermaid());
    }
}
