package dev.tranche.scheduler.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Where the HTTP history export writes its answer before sending it: a directory of the server's own
 * home, readable by its owner only (the history names every project), on the disk the admin chose
 * for the server's state. A server killed half-way through an export leaves its file behind; the
 * next server on the same home (one at a time, by the home lock) deletes what is left at start.
 */
final class ExportFiles
{
    private static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final String PREFIX = "tranche-history-";

    private final Path directory;

    private ExportFiles(Path directory)
    {
        this.directory = requireNonNull(directory, "directory is null");
    }

    /** {@code home/exports}, created owner-only if missing, with any export file a previous server left there deleted. */
    static ExportFiles in(Path home)
    {
        Path directory = home.resolve("exports");
        try {
            if (!Files.isDirectory(directory)) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIRECTORY));
            }
            Files.setPosixFilePermissions(directory, OWNER_ONLY_DIRECTORY);
            try (DirectoryStream<Path> left = Files.newDirectoryStream(directory, PREFIX + "*")) {
                for (Path file : left) {
                    Files.deleteIfExists(file);
                }
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the directory for history exports " + directory + ": " + e.getMessage(), e);
        }
        return new ExportFiles(directory);
    }

    /** A new, empty file for one export (owner-only, as every file createTempFile makes). */
    Path newFile(String suffix)
            throws IOException
    {
        return Files.createTempFile(directory, PREFIX, suffix);
    }

    Path directory()
    {
        return directory;
    }
}
