package dev.tranche.worker.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IdxFilesTest
{
    @TempDir
    Path dir;

    /** A header's item count was trusted for an allocation, so a 12-byte file ended in OutOfMemoryError instead of a message naming it. */
    @Test
    void labelsFileClaimingMoreItemsThanItHoldsIsRefusedNamingTheFile()
            throws IOException
    {
        Path labels = dir.resolve("train-labels-idx1-ubyte");
        Fixtures.write(labels, Fixtures.idxBytes(IdxFiles.LABELS_MAGIC, new int[] {0x7fffffff}, new byte[4]), false);
        Path images = images(dir.resolve("train-images-idx3-ubyte"), 4, 28, 28, false);
        assertThatThrownBy(() -> IdxFiles.read(images, labels, 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("train-labels-idx1-ubyte: the header says 2147483647 items of 1 bytes, but the file holds only 4 bytes after it")
                .hasMessageContaining("truncated or not an IDX file");
    }

    /** Gzipped files have no size to check against, so the lie must cost only the bytes really there. */
    @Test
    void gzippedLabelsFileClaimingMoreItemsThanItHoldsIsReportedTruncated()
            throws IOException
    {
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        Fixtures.write(labels, Fixtures.idxBytes(IdxFiles.LABELS_MAGIC, new int[] {0x7fffffff}, new byte[4]), true);
        Path images = images(dir.resolve("train-images-idx3-ubyte.gz"), 4, 28, 28, true);
        assertThatThrownBy(() -> IdxFiles.read(images, labels, 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("train-labels-idx1-ubyte.gz: truncated: expected 2147483647 bytes")
                .hasMessageContaining("found 4");
    }

    /** 256 images of 4096x4096 wrapped to 0 bytes in int arithmetic and failed later without the file's name. */
    @Test
    void imagesTooLargeForOneArrayAreRefusedNamingTheFile()
            throws IOException
    {
        Path labels = labels(dir.resolve("train-labels-idx1-ubyte.gz"), 256, true);
        Path images = images(dir.resolve("train-images-idx3-ubyte.gz"), 0, 4096, 4096, true);
        rewriteCount(images, 256);
        assertThatThrownBy(() -> IdxFiles.read(images, labels, 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("train-images-idx3-ubyte.gz: 256 images of 4096x4096 are 4294967296 bytes")
                .hasMessageContaining("more than one Java array holds")
                .hasMessageContaining("limit");
    }

    /** A plain images file whose header claims more than it holds is refused as truncated, before any pixel buffer is sized. */
    @Test
    void plainImagesFileShorterThanItsHeaderSaysIsReportedTruncated()
            throws IOException
    {
        Path labels = labels(dir.resolve("train-labels-idx1-ubyte"), 256, false);
        Path images = dir.resolve("train-images-idx3-ubyte");
        Fixtures.write(images, Fixtures.idxBytes(IdxFiles.IMAGES_MAGIC, new int[] {256, 4096, 4096}, new byte[100]), false);
        assertThatThrownBy(() -> IdxFiles.read(images, labels, 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("train-images-idx3-ubyte: the header says 256 items of 16777216 bytes, but the file holds only 100 bytes after it")
                .hasMessageContaining("truncated or not an IDX file");
    }

    private static Path labels(Path file, int n, boolean gzip)
            throws IOException
    {
        Fixtures.write(file, Fixtures.idxBytes(IdxFiles.LABELS_MAGIC, new int[] {n}, new byte[n]), gzip);
        return file;
    }

    private static Path images(Path file, int n, int rows, int cols, boolean gzip)
            throws IOException
    {
        Fixtures.write(file, Fixtures.idxBytes(IdxFiles.IMAGES_MAGIC, new int[] {n, rows, cols}, new byte[n * rows * cols]), gzip);
        return file;
    }

    private static void rewriteCount(Path gzipped, int count)
            throws IOException
    {
        byte[] header = Fixtures.idxBytes(IdxFiles.IMAGES_MAGIC, new int[] {count, 4096, 4096}, new byte[0]);
        Fixtures.write(gzipped, header, true);
    }
}
