package dev.tranche.worker.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Opening data set files, gzipped or not, with errors that name the file. */
final class Files2
{
    /** The largest byte array a JVM reliably allocates. */
    static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private Files2() {}

    /** The file's size, or -1 when it is gzipped (its unpacked size is unknown until read). */
    static long plainSize(Path file)
    {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b ? -1 : Files.size(file);
        }
        catch (NoSuchFileException e) {
            throw new DatasetFormatException(file, "not found", e);
        }
        catch (IOException e) {
            throw new DatasetFormatException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** {@code dir/name}, or {@code dir/name.gz} where only that exists. */
    static Path find(Path dir, String name)
    {
        Path plain = dir.resolve(name);
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        Path gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        if (!Files.isDirectory(dir)) {
            throw new DatasetFormatException(dir, "data set directory not found");
        }
        throw new DatasetFormatException(plain, "not found (nor " + gz.getFileName() + ")");
    }

    /** Opens the file, un-gzipping when it starts with the gzip magic bytes. */
    static DataInputStream open(Path file)
    {
        try {
            InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                in = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
            }
            return new DataInputStream(in);
        }
        catch (NoSuchFileException e) {
            throw new DatasetFormatException(file, "not found", e);
        }
        catch (IOException e) {
            throw new DatasetFormatException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * Reads exactly {@code length} bytes or says how many were there. The buffer grows with what is
     * read (readNBytes), so a header that lies about a gzipped file's length costs only the bytes really there.
     */
    static byte[] readFully(DataInputStream in, int length, Path file, String what)
    {
        try {
            byte[] bytes = in.readNBytes(length);
            if (bytes.length < length) {
                throw new DatasetFormatException(file, "truncated: expected " + length + " bytes of " + what + ", found " + bytes.length);
            }
            return bytes;
        }
        catch (IOException e) {
            throw new DatasetFormatException(file, "cannot be read (" + e.getMessage() + "); a damaged gzip stream looks like this", e);
        }
    }
}
