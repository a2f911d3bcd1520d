package dev.tranche.worker.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;

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
}
