package dev.tranche.worker.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Cifar10FilesTest
{
    @TempDir
    Path dir;

    /** A batch file over 2 GiB was read whole and ended in OutOfMemoryError ("Required array size too large") instead of a message naming it. */
    @Test
    void batchFileTooLargeForOneArrayIsRefusedNamingTheFile()
            throws IOException
    {
        Path file = dir.resolve("data_batch_1.bin");
        // sparse: takes no disk, a whole number of records
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength((long) Cifar10Files.RECORD * 1_000_000);
        }
        assertThatThrownBy(() -> Cifar10Files.read(List.of(file), 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("data_batch_1.bin: 3073000000 bytes")
                .hasMessageContaining("not a CIFAR-10 batch");
    }

    /**
     * Batch files each within one array's size can together hold more images than one array: 699,052
     * records made n * 3072 wrap to a negative size (after reading 2 GB for nothing). The sizes alone
     * tell, so nothing is read.
     */
    @Test
    void moreImagesThanOneArrayHoldsAreRefusedBeforeAnyIsRead()
            throws IOException
    {
        List<Path> files = List.of(sparse("data_batch_1.bin", 349_526), sparse("data_batch_2.bin", 349_526));
        assertThatThrownBy(() -> Cifar10Files.read(files, 0, "dataset.limit (or --limit)"))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessage(dir + ": 699052 images of 32x32 RGB are 2147487744 bytes, more than one Java array holds (2147483639 bytes);"
                        + " set dataset.limit (or --limit) to read fewer");
        for (int b = 3; b <= 5; b++) {
            sparse("data_batch_" + b + ".bin", 1);
        }
        assertThatThrownBy(() -> Cifar10Files.train(dir, 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessage(dir + ": 699055 images of 32x32 RGB are 2147496960 bytes, more than one Java array holds (2147483639 bytes);"
                        + " set dataset.limit (or --limit) to read fewer");
        // with a limit it fits, and only the records kept are read
        assertThat(Cifar10Files.train(dir, 100).size()).isEqualTo(100);
    }

    /** A limit reads only the records it keeps: the first 1 GB file is not read whole for three images. */
    @Test
    void aLimitReadsOnlyTheRecordsItKeeps()
            throws IOException
    {
        Path file = sparse("data_batch_1.bin", 349_526);
        ImageData three = Cifar10Files.read(List.of(file), 3, "dataset.limit (or --limit)");
        assertThat(three.size()).isEqualTo(3);
        assertThat(three.pixels()).hasSize(3 * 3072);
    }

    private Path sparse(String name, long records)
            throws IOException
    {
        Path file = dir.resolve(name);
        // sparse: takes no disk; all zeros is label 0 and black pixels
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(Cifar10Files.RECORD * records);
        }
        return file;
    }
}
