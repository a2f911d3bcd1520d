package dev.tranche.cli;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file the commands produce (an export, a report, a trace) whole or not at all: into a
 * temporary file beside it, then renamed over it, so a failed or interrupted write leaves the old
 * file as it was and whoever has the old one open keeps reading it whole.
 */
public final class FileReplacement
{
    /** What writes the new content. */
    public interface Content
    {
        void writeTo(Writer writer)
                throws IOException;
    }

    private FileReplacement() {}

    public static void write(Path file, Content content)
            throws IOException
    {
        // beside the target, so the move is a rename within one file system
        Path target = file.toAbsolutePath();
        Path partial = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".partial");
        try {
            try (Writer writer = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
                content.writeTo(writer);
            }
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        finally {
            Files.deleteIfExists(partial);
        }
    }

    public static void writeString(Path file, String text)
            throws IOException
    {
        write(file, writer -> writer.write(text));
    }
}
