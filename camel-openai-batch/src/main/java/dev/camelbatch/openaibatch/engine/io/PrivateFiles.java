package dev.camelbatch.openaibatch.engine.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.Set;

/**
 * How the component creates its files and directories (stores, work directories, uploads, downloads): readable by
 * the owner only, 0700 for directories and 0600 for files, where the file system supports POSIX permissions; the
 * defaults elsewhere.
 */
public final class PrivateFiles {

    private static final Set<PosixFilePermission> DIR_PERMS = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_PERMS = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> FILE_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(FILE_PERMS);
    private static final Set<StandardOpenOption> NEW_FILE = EnumSet.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);

    private PrivateFiles() {
    }

    /** Creates a directory and its missing parents; those created here and the directory itself are owner-only. */
    public static void createDirectories(Path p) throws IOException {
        Deque<Path> missing = new ArrayDeque<>();
        for (Path d = p.toAbsolutePath(); d != null && !Files.exists(d); d = d.getParent()) {
            missing.push(d);
        }
        Files.createDirectories(p);
        for (Path d : missing) {
            restrict(d);
        }
        restrict(p);
    }

    /** Creates an owner-only file unless it exists (an existing one is made owner-only too). */
    public static void createFile(Path p) throws IOException {
        try {
            create(p);
        } catch (FileAlreadyExistsException e) {
            restrict(p);
        }
    }

    /**
     * Opens a new owner-only file for writing; a file of that name is deleted first. Never truncates: on ext4 a file
     * truncated when opened is flushed to disk when it is closed (the {@code auto_da_alloc} safeguard for files
     * replaced in place), which made closing a downloaded output file wait for the disk.
     */
    public static OutputStream newOutputStream(Path p) throws IOException {
        Files.deleteIfExists(p);
        try {
            return Channels.newOutputStream(Files.newByteChannel(p, NEW_FILE, FILE_ATTRIBUTE));
        } catch (UnsupportedOperationException e) {
            return Channels.newOutputStream(Files.newByteChannel(p, NEW_FILE));
        }
    }

    /**
     * Opens a file that was just created empty (by {@link #createTempFile}, say) for writing, without truncating it
     * (see {@link #newOutputStream}).
     */
    public static OutputStream openEmpty(Path p) throws IOException {
        return Files.newOutputStream(p, StandardOpenOption.WRITE);
    }

    /** A new owner-only file with a unique name in {@code dir}. */
    public static Path createTempFile(Path dir, String prefix, String suffix) throws IOException {
        Path file = Files.createTempFile(dir, prefix, suffix);
        restrict(file);
        return file;
    }

    /** Makes an existing file or directory owner-only (nothing where POSIX permissions are not supported). */
    public static void restrict(Path p) {
        try {
            Files.setPosixFilePermissions(p, Files.isDirectory(p) ? DIR_PERMS : FILE_PERMS);
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: leave the defaults
        }
    }

    private static void create(Path p) throws IOException {
        try {
            // owner-only from its first moment (the umask can only take permissions away)
            Files.createFile(p, FILE_ATTRIBUTE);
        } catch (UnsupportedOperationException e) {
            Files.createFile(p);
        }
    }
}
