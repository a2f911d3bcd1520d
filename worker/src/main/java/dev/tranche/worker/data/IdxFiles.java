package dev.tranche.worker.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The IDX format of MNIST and Fashion-MNIST: a big-endian magic (0x00000803 for images, 0x00000801
 * for labels), the dimensions, then unsigned bytes. Files may be gzipped.
 */
public final class IdxFiles
{
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private IdxFiles() {}

    /** Reads the first {@code limit} images (0 = all) of an image file and its label file. */
    public static ImageData read(Path imagesFile, Path labelsFile, int limit)
    {
        int[] labels;
        try (DataInputStream in = Files2.open(labelsFile)) {
            int count = header(in, labelsFile, LABELS_MAGIC, "labels (idx1)");
            checkClaim(labelsFile, 8, count, 1);
            int n = limit > 0 ? Math.min(limit, count) : count;
            byte[] raw = Files2.readFully(in, n, labelsFile, "labels (header says " + count + ")");
            labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = raw[i] & 0xff;
                if (labels[i] > 9) {
                    throw new DatasetFormatException(labelsFile, "label " + labels[i] + " at index " + i + " is not a class 0-9");
                }
            }
        }
        catch (IOException e) {
            throw new DatasetFormatException(labelsFile, "cannot be read: " + e.getMessage(), e);
        }
        try (DataInputStream in = Files2.open(imagesFile)) {
            int count = header(in, imagesFile, IMAGES_MAGIC, "images (idx3)");
            int rows = dimension(in, imagesFile);
            int cols = dimension(in, imagesFile);
            if (count < labels.length) {
                throw new DatasetFormatException(imagesFile, "holds " + count + " images but " + labelsFile.getFileName() + " has " + labels.length + " labels");
            }
            if (rows < 1 || cols < 1 || rows > 4096 || cols > 4096) {
                throw new DatasetFormatException(imagesFile, "implausible image size " + rows + "x" + cols);
            }
            checkClaim(imagesFile, 16, count, (long) rows * cols);
            // long: 256 images of 4096x4096 wrapped to 0 in int arithmetic
            long bytes = (long) labels.length * rows * cols;
            if (bytes > Files2.MAX_ARRAY) {
                throw new DatasetFormatException(imagesFile, labels.length + " images of " + rows + "x" + cols + " are " + bytes
                        + " bytes, more than one Java array holds (" + Files2.MAX_ARRAY + "); set dataset.limit (or --limit) to read fewer");
            }
            byte[] pixels = Files2.readFully(in, (int) bytes, imagesFile, "pixels (header says " + count + " images of " + rows + "x" + cols + ")");
            return new ImageData(1, rows, cols, 10, pixels, labels);
        }
        catch (IOException e) {
            throw new DatasetFormatException(imagesFile, "cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * Refuses a plain file whose header claims more items than the file holds, before anything is
     * sized from the claim; a gzipped file's size is unknown, so there only the read finds out.
     */
    private static void checkClaim(Path file, int headerBytes, int count, long itemBytes)
    {
        long size = Files2.plainSize(file);
        if (size >= 0 && count * itemBytes > size - headerBytes) {
            throw new DatasetFormatException(file, "the header says " + count + " items of " + itemBytes + " bytes, but the file holds only "
                    + Math.max(0, size - headerBytes) + " bytes after it: truncated or not an IDX file");
        }
    }

    private static int header(DataInputStream in, Path file, int expectedMagic, String what)
    {
        int magic = dimension(in, file);
        if (magic != expectedMagic) {
            throw new DatasetFormatException(file, String.format("not an IDX file of %s: magic 0x%08x, expected 0x%08x", what, magic, expectedMagic));
        }
        int count = dimension(in, file);
        if (count < 0) {
            throw new DatasetFormatException(file, "negative item count " + count);
        }
        return count;
    }

    private static int dimension(DataInputStream in, Path file)
    {
        try {
            return in.readInt();
        }
        catch (EOFException e) {
            throw new DatasetFormatException(file, "truncated: the IDX header is incomplete");
        }
        catch (IOException e) {
            throw new DatasetFormatException(file, "cannot be read: " + e.getMessage(), e);
        }
    }
}
