package dev.tranche.worker.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CIFAR-10 binary format: records of one label byte (0-9) and 3072 pixel bytes (1024 red, 1024
 * green, 1024 blue, 32x32 each), in {@code data_batch_1.bin .. data_batch_5.bin} and {@code test_batch.bin}.
 */
public final class Cifar10Files
{
    static final int RECORD = 1 + 3 * 32 * 32;

    private Cifar10Files() {}

    /** The directory holding the .bin files: {@code dir} itself or its {@code cifar-10-batches-bin}. */
    static Path batchesDir(Path dir)
    {
        Path inner = dir.resolve("cifar-10-batches-bin");
        return Files.isDirectory(inner) ? inner : dir;
    }

    public static ImageData train(Path dir, int limit)
    {
        Path batches = batchesDir(dir);
        List<Path> files = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            files.add(batches.resolve("data_batch_" + i + ".bin"));
        }
        return read(files, limit);
    }

    public static ImageData test(Path dir, int limit)
    {
        return read(List.of(batchesDir(dir).resolve("test_batch.bin")), limit);
    }

    static ImageData read(List<Path> files, int limit)
    {
        List<byte[]> parts = new ArrayList<>();
        long total = 0;
        for (Path file : files) {
            if (limit > 0 && total >= limit) {
                break;
            }
            if (!Files.isRegularFile(file)) {
                throw new DatasetFormatException(file, "not found");
            }
            byte[] bytes;
            try {
                // read whole below: over one array's size it ended in OutOfMemoryError, not a message
                long size = Files.size(file);
                if (size > Files2.MAX_ARRAY) {
                    throw new DatasetFormatException(file, size + " bytes is more than one Java array holds, so not a CIFAR-10 batch (10000 records of "
                            + RECORD + " bytes, " + 10000L * RECORD + " bytes)");
                }
                bytes = Files.readAllBytes(file);
            }
            catch (IOException e) {
                throw new DatasetFormatException(file, "cannot be read: " + e.getMessage(), e);
            }
            if (bytes.length == 0 || bytes.length % RECORD != 0) {
                throw new DatasetFormatException(file, "truncated or not CIFAR-10 binary: " + bytes.length
                        + " bytes is not a whole number of " + RECORD + "-byte records");
            }
            parts.add(bytes);
            total += bytes.length / RECORD;
        }
        int n = (int) (limit > 0 ? Math.min(limit, total) : total);
        byte[] pixels = new byte[n * (RECORD - 1)];
        int[] labels = new int[n];
        int i = 0;
        for (int p = 0; p < parts.size() && i < n; p++) {
            byte[] bytes = parts.get(p);
            for (int r = 0; r < bytes.length / RECORD && i < n; r++, i++) {
                int label = bytes[r * RECORD] & 0xff;
                if (label > 9) {
                    throw new DatasetFormatException(files.get(p), "record " + r + " has label " + label + ", not a class 0-9: not CIFAR-10 binary");
                }
                labels[i] = label;
                System.arraycopy(bytes, r * RECORD + 1, pixels, i * (RECORD - 1), RECORD - 1);
            }
        }
        return new ImageData(3, 32, 32, 10, pixels, labels);
    }
}
