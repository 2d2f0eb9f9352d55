package dev.camelbatch.openaibatch.engine.io;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Files written by the component: owner-only, and an existing file of the same name replaced, never truncated. */
@Timeout(30)
class PrivateFilesTest {

    @TempDir
    Path dir;

    @Test
    void aNewFileIsOwnerOnly() throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path p = dir.resolve("out.jsonl.part");
        try (OutputStream out = PrivateFiles.newOutputStream(p)) {
            out.write("{}\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(Files.readString(p)).isEqualTo("{}\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("rw-------");
    }

    @Test
    void anExistingFileIsReplacedByANewOwnerOnlyFile() throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path p = dir.resolve("out.jsonl.part");
        Files.writeString(p, "a longer leftover of an interrupted download\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        // a second name for the old file: truncating the file in place would empty it too
        Path oldCopy = Files.createLink(dir.resolve("old"), p);

        try (OutputStream out = PrivateFiles.newOutputStream(p)) {
            out.write("new\n".getBytes(StandardCharsets.UTF_8));
        }

        assertThat(Files.readString(p)).isEqualTo("new\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("rw-------");
        assertThat(Files.readString(oldCopy)).isEqualTo("a longer leftover of an interrupted download\n");
    }

    @Test
    void aTemporaryFileIsWrittenAsItWasCreated() throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path p = PrivateFiles.createTempFile(dir, "upload-", ".jsonl");
        try (OutputStream out = PrivateFiles.openEmpty(p)) {
            out.write("{\"custom_id\":\"a\"}\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(Files.readString(p)).isEqualTo("{\"custom_id\":\"a\"}\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("rw-------");
    }
}
