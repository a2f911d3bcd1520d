package dev.tranche.worker.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
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
        return read(files, limit, "dataset.limit (or --limit)");
    }

    public static ImageData test(Path dir, int limit)
    {
        return read(List.of(batchesDir(dir).resolve("test_batch.bin")), limit, "dataset.test_limit (or --test-limit)");
    }

    static ImageData read(List<Path> files, int limit)
    {
        return read(files, limit, "dataset.limit");
    }

    /**
     * Reads the first {@code limit} records (0 = all) of the files, in order. The files' sizes say how
     * many images there are, so the pixel array is sized (and refused past one Java array) before a
     * byte is read, and only the records kept are read.
     */
    static ImageData read(List<Path> files, int limit, String limitSetting)
    {
        List<Path> needed = new ArrayList<>();
        List<Long> records = new ArrayList<>();
        long total = 0;
        for (Path file : files) {
            if (limit > 0 && total >= limit) {
                break;
            }
            if (!Files.isRegularFile(file)) {
                throw new DatasetFormatException(file, "not found");
            }
            long size;
            try {
                size = Files.size(file);
            }
            catch (IOException e) {
                throw new DatasetFormatException(file, "cannot be read: " + e.getMessage(), e);
            }
            if (size > Files2.MAX_ARRAY) {
                throw new DatasetFormatException(file, size + " bytes is more than one Java array holds, so not a CIFAR-10 batch (10000 records of "
                        + RECORD + " bytes, " + 10000L * RECORD + " bytes)");
            }
            if (size == 0 || size % RECORD != 0) {
                throw new DatasetFormatException(file, "truncated or not CIFAR-10 binary: " + size
                        + " bytes is not a whole number of " + RECORD + "-byte records");
            }
            needed.add(file);
            records.add(size / RECORD);
            total += size / RECORD;
        }
        long n = limit > 0 ? Math.min(limit, total) : total;
        // long: 699,051 records and more wrapped to a negative array size in int arithmetic
        long bytes = n * (RECORD - 1);
        if (bytes > Files2.MAX_ARRAY) {
            Path where = files.get(0).getParent() != null ? files.get(0).getParent() : files.get(0);
            throw new DatasetFormatException(where, n + " images of 32x32 RGB are " + bytes + " bytes, more than one Java array holds ("
                    + Files2.MAX_ARRAY + " bytes); set " + limitSetting + " to read fewer");
        }
        byte[] pixels = new byte[(int) bytes];
        int[] labels = new int[(int) n];
        byte[] record = new byte[RECORD];
        int i = 0;
        for (int p = 0; p < needed.size() && i < n; p++) {
            Path file = needed.get(p);
            try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
                for (long r = 0; r < records.get(p) && i < n; r++, i++) {
                    if (in.readNBytes(record, 0, RECORD) < RECORD) {
                        throw new DatasetFormatException(file, "truncated while reading: record " + r + " of " + records.get(p) + " is incomplete");
                    }
                    int label = record[0] & 0xff;
                    if (label > 9) {
                        throw new DatasetFormatException(file, "record " + r + " has label " + label + ", not a class 0-9: not CIFAR-10 binary");
                    }
                    labels[i] = label;
                    System.arraycopy(record, 1, pixels, i * (RECORD - 1), RECORD - 1);
                }
            }
            catch (IOException e) {
                throw new DatasetFormatException(file, "cannot be read: " + e.getMessage(), e);
            }
        }
        return new ImageData(3, 32, 32, 10, pixels, labels);
    }
}
