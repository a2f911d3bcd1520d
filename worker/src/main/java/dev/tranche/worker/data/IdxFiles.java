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
            int n = limit > 0 ? Math.min(limit, count) : count;
            byte[] raw = new byte[n];
            Files2.readFully(in, raw, labelsFile, "labels (header says " + count + ")");
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
            byte[] pixels = new byte[labels.length * rows * cols];
            Files2.readFully(in, pixels, imagesFile, "pixels (header says " + count + " images of " + rows + "x" + cols + ")");
            return new ImageData(1, rows, cols, 10, pixels, labels);
        }
        catch (IOException e) {
            throw new DatasetFormatException(imagesFile, "cannot be read: " + e.getMessage(), e);
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
