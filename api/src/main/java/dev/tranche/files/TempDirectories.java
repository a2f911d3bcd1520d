package dev.tranche.files;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Removing scratch directories: what a worker lays out for Spark, what tests write outside a JUnit
 * {@code @TempDir} (a PostgreSQL data directory shared by a whole test JVM, a server's home). Left
 * behind, they pile up in the machine's temporary directory (one run of the test suite alone once
 * left most of a gigabyte).
 */
public final class TempDirectories
{
    private TempDirectories() {}

    /** Deletes {@code root} and everything under it, without following links; what is already gone is skipped. */
    public static void deleteTree(Path root)
    {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>()
            {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
                        throws IOException
                {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e)
                        throws IOException
                {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path directory, IOException e)
                        throws IOException
                {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    Files.deleteIfExists(directory);
                    return FileVisitResult.CONTINUE;
                }
            });
        }
        catch (NoSuchFileException e) {
            // already gone
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
