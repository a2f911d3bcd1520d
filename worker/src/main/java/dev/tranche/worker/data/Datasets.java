package dev.tranche.worker.data;

import dev.tranche.spec.BuiltInDatasets;
import dev.tranche.proto.v1.DatasetSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static java.util.Objects.requireNonNull;

/** Loads the training and test images a {@link DatasetSpec} names. */
public final class Datasets
{
    public static final Path FASHION_MNIST_DIR = Path.of(BuiltInDatasets.FASHION_MNIST);
    public static final Path MNIST_DIR = Path.of(BuiltInDatasets.MNIST);
    public static final Path CIFAR10_DIR = Path.of(BuiltInDatasets.CIFAR10);

    private Datasets() {}

    public record Split(ImageData train, ImageData test)
    {
        public Split
        {
            requireNonNull(train, "train is null");
            requireNonNull(test, "test is null");
        }
    }

    public static Path location(DatasetSpec spec)
    {
        if (!spec.getLocation().isEmpty()) {
            return Path.of(spec.getLocation());
        }
        return switch (spec.getKind()) {
            case "fashion-mnist" -> FASHION_MNIST_DIR;
            case "mnist" -> MNIST_DIR;
            case "cifar10" -> CIFAR10_DIR;
            default -> throw new IllegalArgumentException("dataset.location is required for kind " + spec.getKind());
        };
    }

    /** Loads the split; {@code seed} only decides which images an image folder without train/test holds out. */
    public static Split load(DatasetSpec spec, long seed)
    {
        Path dir = location(spec);
        int limit = spec.getLimit();
        int testLimit = spec.getTestLimit();
        return switch (spec.getKind()) {
            case "fashion-mnist", "mnist" -> new Split(
                    IdxFiles.read(Files2.find(dir, "train-images-idx3-ubyte"), Files2.find(dir, "train-labels-idx1-ubyte"), limit),
                    IdxFiles.read(Files2.find(dir, "t10k-images-idx3-ubyte"), Files2.find(dir, "t10k-labels-idx1-ubyte"), testLimit));
            case "cifar10" -> new Split(Cifar10Files.train(dir, limit), Cifar10Files.test(dir, testLimit));
            case "image-folder" -> imageFolder(dir, limit, testLimit, seed);
            default -> throw new IllegalArgumentException("unknown dataset.kind: " + spec.getKind());
        };
    }

    /** {@code dir/train} and {@code dir/test} when both exist; otherwise a seeded 90/10 split of {@code dir}. */
    private static Split imageFolder(Path dir, int limit, int testLimit, long seed)
    {
        if (Files.isDirectory(dir.resolve("train")) && Files.isDirectory(dir.resolve("test"))) {
            return new Split(ImageFolders.read(dir.resolve("train")).first(limit), ImageFolders.read(dir.resolve("test")).first(testLimit));
        }
        ImageData all = ImageFolders.read(dir);
        int[] order = permutation(all.size(), new Random(seed));
        int testCount = Math.max(1, all.size() / 10);
        ImageData test = select(all, order, 0, testCount);
        ImageData train = select(all, order, testCount, all.size());
        return new Split(train.first(limit), test.first(testLimit));
    }

    /** Training images split into what trains and what validates after each epoch. */
    public record Holdout(ImageData train, ImageData validation)
    {
        public Holdout
        {
            requireNonNull(train, "train is null");
            requireNonNull(validation, "validation is null");
        }
    }

    /**
     * Holds out {@code fraction} of the training images (at least one when the fraction is above 0),
     * chosen by a permutation seeded by {@code seed}: the same run always validates on the same images,
     * and they are never the test images. The rest keep their original order.
     */
    public static Holdout holdOut(ImageData train, double fraction, long seed)
    {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1): got " + fraction);
        }
        int count = (int) Math.round(train.size() * fraction);
        if (fraction > 0) {
            count = Math.max(1, count);
        }
        if (count >= train.size()) {
            throw new IllegalArgumentException("holding out " + count + " of " + train.size() + " training images for validation leaves none to train on");
        }
        // its own stream, so the held-out images do not depend on how the epochs are shuffled
        int[] order = permutation(train.size(), new Random(seed ^ 0x5DEECE66DL));
        int[] validation = java.util.Arrays.copyOf(order, count);
        boolean[] held = new boolean[train.size()];
        for (int image : validation) {
            held[image] = true;
        }
        java.util.Arrays.sort(validation);
        int[] rest = new int[train.size() - count];
        for (int image = 0, next = 0; image < train.size(); image++) {
            if (!held[image]) {
                rest[next++] = image;
            }
        }
        return new Holdout(select(train, rest, 0, rest.length), select(train, validation, 0, validation.length));
    }

    static ImageData select(ImageData data, int[] order, int from, int to)
    {
        int bytes = data.imageBytes();
        byte[] pixels = new byte[(to - from) * bytes];
        int[] labels = new int[to - from];
        for (int i = from; i < to; i++) {
            System.arraycopy(data.pixels(), order[i] * bytes, pixels, (i - from) * bytes, bytes);
            labels[i - from] = data.labels()[order[i]];
        }
        return new ImageData(data.channels(), data.height(), data.width(), data.classes(), pixels, labels);
    }

    /** A Fisher-Yates permutation of 0..n-1 from the given generator. */
    public static int[] permutation(int n, Random random)
    {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
