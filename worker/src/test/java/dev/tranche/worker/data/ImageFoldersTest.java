package dev.tranche.worker.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageFoldersTest
{
    @TempDir
    Path dir;

    /** The decoder sized its raster from the image's header, so a PNG of a few bytes claiming 25000x25000 took 1.9 GB (an OutOfMemoryError on a smaller heap) before failing. */
    @Test
    void imageWhoseHeaderClaimsAHugeSizeIsRefusedNamingTheFile()
            throws IOException
    {
        Fixtures.imageFolder(dir, 2, 2, 8);
        Path image = dir.resolve("class-1/img-000.png");
        Files.write(image, withSize(Files.readAllBytes(image), 25_000, 25_000));
        assertThatThrownBy(() -> ImageFolders.read(dir))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("img-000.png")
                .hasMessageContaining("image of 25000x25000 is more than 40 megapixels")
                .hasMessageContaining("scale it down");
    }

    /**
     * 699,051 images of 32x32 RGB are 2,147,486,720 bytes: in int arithmetic that wrapped to a negative
     * array size (NegativeArraySizeException) instead of a message. Checked where the size is computed:
     * a folder of 700,000 files takes most of a minute to create.
     */
    @Test
    void moreImagesThanOneArrayHoldsAreRefusedBeforeAnyIsDecoded()
    {
        assertThat(ImageFolders.pixelBytes(dir, 699_050)).isEqualTo(699_050 * 3072);
        assertThatThrownBy(() -> ImageFolders.pixelBytes(dir, 699_051))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessage(dir + ": 699051 images of 32x32 RGB are 2147484672 bytes, more than one Java array holds (2147483639 bytes);"
                        + " at most 699050 images can be loaded");
        assertThatThrownBy(() -> ImageFolders.pixelBytes(dir, Integer.MAX_VALUE))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("2147483647 images of 32x32 RGB are 6597069763584 bytes");
    }

    /** Rewrites a PNG's IHDR width and height (and its CRC). */
    private static byte[] withSize(byte[] png, int width, int height)
    {
        // signature (8), IHDR length (4), "IHDR" (4), then width and height
        ByteBuffer buffer = ByteBuffer.wrap(png);
        buffer.putInt(16, width);
        buffer.putInt(20, height);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 4 + 13);
        buffer.putInt(12 + 4 + 13, (int) crc.getValue());
        return png;
    }
}
