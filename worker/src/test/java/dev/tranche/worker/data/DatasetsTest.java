package dev.tranche.worker.data;

import dev.tranche.proto.v1.DatasetSpec;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DatasetsTest
{
    @TempDir
    Path dir;

    @Test
    void readsIdxGzippedAndPlainAlike()
            throws IOException
    {
        Fixtures.idx(dir.resolve("gz"), 120, 30, true);
        Fixtures.idx(dir.resolve("plain"), 120, 30, false);
        Datasets.Split gz = Datasets.load(spec("mnist", dir.resolve("gz"), 0, 0), 0);
        Datasets.Split plain = Datasets.load(spec("mnist", dir.resolve("plain"), 0, 0), 0);
        assertThat(gz.train().size()).isEqualTo(120);
        assertThat(gz.test().size()).isEqualTo(30);
        assertThat(gz.train().pixels()).isEqualTo(plain.train().pixels());
        assertThat(gz.train().labels()).isEqualTo(plain.train().labels());
        assertThat(gz.train().height()).isEqualTo(28);
    }

    @Property(tries = 50)
    void holdOutSplitsTheTrainingImagesDisjointlyAndTheSameWayForASeed(@ForAll @IntRange(min = 2, max = 300) int size, @ForAll @IntRange(min = 0, max = 50) int percent,
            @ForAll @IntRange(min = 0, max = 5) int seed)
    {
        byte[] pixels = new byte[size * 4];
        int[] labels = new int[size];
        for (int i = 0; i < size; i++) {
            // each image's pixels name it, so the split can be traced back
            pixels[i * 4] = (byte) i;
            pixels[i * 4 + 1] = (byte) (i >> 8);
            labels[i] = i % 3;
        }
        ImageData data = new ImageData(1, 2, 2, 3, pixels, labels);
        double fraction = percent / 100.0;
        Datasets.Holdout split = Datasets.holdOut(data, fraction, seed);
        int expected = percent == 0 ? 0 : Math.max(1, (int) Math.round(size * fraction));
        assertThat(split.validation().size()).isEqualTo(expected);
        assertThat(split.train().size()).isEqualTo(size - expected);
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (ImageData part : java.util.List.of(split.train(), split.validation())) {
            for (int i = 0; i < part.size(); i++) {
                int id = (part.pixels()[i * 4] & 0xff) | (part.pixels()[i * 4 + 1] & 0xff) << 8;
                assertThat(seen.add(id)).as("image %d twice", id).isTrue();
                assertThat(part.labels()[i]).isEqualTo(id % 3);
            }
        }
        assertThat(seen).hasSize(size);
        assertThat(Datasets.holdOut(data, fraction, seed).validation().pixels()).isEqualTo(split.validation().pixels());
    }

    @Test
    void holdingOutEverythingIsRefused()
    {
        ImageData one = new ImageData(1, 1, 1, 2, new byte[1], new int[1]);
        assertThatThrownBy(() -> Datasets.holdOut(one, 0.5, 0)).hasMessageContaining("leaves none to train on");
    }

    @Test
    void limitsTakeTheFirstImages()
            throws IOException
    {
        Fixtures.idx(dir, 100, 40, true);
        Datasets.Split all = Datasets.load(spec("fashion-mnist", dir, 0, 0), 0);
        Datasets.Split some = Datasets.load(spec("fashion-mnist", dir, 25, 10), 0);
        assertThat(some.train().size()).isEqualTo(25);
        assertThat(some.test().size()).isEqualTo(10);
        assertThat(some.train().labels()).isEqualTo(Arrays.copyOf(all.train().labels(), 25));
    }

    @Test
    void missingFileIsNamed()
            throws IOException
    {
        Fixtures.idx(dir, 10, 10, false);
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte"));
        assertThatThrownBy(() -> Datasets.load(spec("mnist", dir, 0, 0), 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("t10k-labels-idx1-ubyte")
                .hasMessageContaining("not found");
        assertThatThrownBy(() -> Datasets.load(spec("mnist", dir.resolve("nowhere"), 0, 0), 0))
                .hasMessageContaining("nowhere")
                .hasMessageContaining("directory not found");
    }

    @Test
    void truncatedIdxIsNamedWithSizes()
            throws IOException
    {
        Fixtures.idx(dir, 50, 10, true);
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] whole = Fixtures.idxBytes(IdxFiles.IMAGES_MAGIC, new int[] {50, 28, 28}, new byte[50 * 784]);
        Fixtures.write(images, Arrays.copyOf(whole, 16 + 10 * 784), true);
        assertThatThrownBy(() -> Datasets.load(spec("fashion-mnist", dir, 0, 0), 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("train-images-idx3-ubyte.gz")
                .hasMessageContaining("truncated")
                .hasMessageContaining("expected " + 50 * 784 + " bytes")
                .hasMessageContaining("found " + 10 * 784);
    }

    @Test
    void cutGzipStreamIsReported()
            throws IOException
    {
        Fixtures.idx(dir, 50, 10, true);
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] gz = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(gz, gz.length / 2));
        assertThatThrownBy(() -> Datasets.load(spec("fashion-mnist", dir, 0, 0), 0))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("train-images-idx3-ubyte.gz");
    }

    @Test
    void wrongMagicIsNamed()
            throws IOException
    {
        Fixtures.idx(dir, 10, 10, false);
        // labels where images belong
        Files.copy(dir.resolve("train-labels-idx1-ubyte"), dir.resolve("train-images-idx3-ubyte"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> Datasets.load(spec("mnist", dir, 0, 0), 0))
                .hasMessageContaining("train-images-idx3-ubyte")
                .hasMessageContaining("not an IDX file of images")
                .hasMessageContaining("0x00000801");
        Files.writeString(dir.resolve("train-labels-idx1-ubyte"), "<html>not found</html>");
        assertThatThrownBy(() -> Datasets.load(spec("mnist", dir, 0, 0), 0))
                .hasMessageContaining("train-labels-idx1-ubyte")
                .hasMessageContaining("magic");
    }

    @Test
    void readsCifar10AndRefusesBrokenRecords()
            throws IOException
    {
        Fixtures.cifar(dir, 20);
        Datasets.Split split = Datasets.load(spec("cifar10", dir, 70, 5), 0);
        assertThat(split.train().size()).isEqualTo(70);
        assertThat(split.train().channels()).isEqualTo(3);
        assertThat(split.test().size()).isEqualTo(5);

        Files.write(dir.resolve("data_batch_2.bin"), new byte[Cifar10Files.RECORD * 3 - 7]);
        assertThatThrownBy(() -> Datasets.load(spec("cifar10", dir, 0, 0), 0))
                .hasMessageContaining("data_batch_2.bin")
                .hasMessageContaining("not a whole number of 3073-byte records");
        Files.delete(dir.resolve("data_batch_2.bin"));
        assertThatThrownBy(() -> Datasets.load(spec("cifar10", dir, 0, 0), 0))
                .hasMessageContaining("data_batch_2.bin")
                .hasMessageContaining("not found");
    }

    @Test
    void readsImageFolderWithSeededHoldOut()
            throws IOException
    {
        Fixtures.imageFolder(dir, 3, 10, 12);
        Datasets.Split a = Datasets.load(spec("image-folder", dir, 0, 0), 5);
        Datasets.Split b = Datasets.load(spec("image-folder", dir, 0, 0), 5);
        assertThat(a.train().size() + a.test().size()).isEqualTo(30);
        assertThat(a.test().size()).isEqualTo(3);
        assertThat(a.train().classes()).isEqualTo(3);
        assertThat(a.train().height()).isEqualTo(ImageFolders.SIZE);
        assertThat(a.test().labels()).isEqualTo(b.test().labels());

        Files.writeString(dir.resolve("class-1").resolve("broken.png"), "not a png");
        assertThatThrownBy(() -> Datasets.load(spec("image-folder", dir, 0, 0), 5))
                .hasMessageContaining("broken.png")
                .hasMessageContaining("not a readable image");
    }

    @Test
    void imageFolderNeedsClasses()
            throws IOException
    {
        Files.createDirectories(dir.resolve("only"));
        assertThatThrownBy(() -> Datasets.load(spec("image-folder", dir, 0, 0), 0))
                .hasMessageContaining("at least 2 classes, found 1");
    }

    @Test
    void batchesScalePixelsAndOneHotLabels()
            throws IOException
    {
        Fixtures.idx(dir, 10, 2, false);
        ImageData data = Datasets.load(spec("mnist", dir, 0, 0), 0).train();
        DataSet batch = Batches.batch(data, null, 0, 4);
        assertThat(batch.getFeatures().shape()).containsExactly(4, 1, 28, 28);
        assertThat(batch.getFeatures().maxNumber().doubleValue()).isLessThanOrEqualTo(1.0);
        assertThat(batch.getFeatures().minNumber().doubleValue()).isGreaterThanOrEqualTo(0.0);
        assertThat(batch.getLabels().sumNumber().intValue()).isEqualTo(4);
        assertThat(batch.getLabels().getDouble(0, data.labels()[0])).isEqualTo(1.0);
        assertThat(Batches.batches(data, Batches.epochOrder(10, 1, 0), 4, 0, 3)).extracting(DataSet::numExamples).containsExactly(4, 4, 2);
    }

    @Property(tries = 50)
    void epochOrderIsASeededPermutation(@ForAll @IntRange(min = 1, max = 500) int size, @ForAll long seed, @ForAll @IntRange(min = 0, max = 100) int epoch)
    {
        int[] order = Batches.epochOrder(size, seed, epoch);
        int[] sorted = order.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < size; i++) {
            assertThat(sorted[i]).isEqualTo(i);
        }
        assertThat(Batches.epochOrder(size, seed, epoch)).isEqualTo(order);
    }

    static DatasetSpec spec(String kind, Path location, int limit, int testLimit)
    {
        return DatasetSpec.newBuilder().setKind(kind).setLocation(location.toString()).setLimit(limit).setTestLimit(testLimit).build();
    }
}
