package dev.tranche.worker.data;

import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Turns images into DL4J mini-batches: pixels scaled to [0, 1], labels one-hot. */
public final class Batches
{
    private Batches() {}

    /**
     * The epoch's order of the training images: a permutation seeded by the experiment's seed and
     * the epoch, so a resumed run sees the same order as an uninterrupted one.
     */
    public static int[] epochOrder(int size, long seed, int epoch)
    {
        return Datasets.permutation(size, new Random(seed * 1_000_003L + epoch));
    }

    /** Mini-batches {@code from..to} (batch indices) of the data in the given order. */
    public static List<DataSet> batches(ImageData data, int[] order, int batchSize, int from, int to)
    {
        return compactBatches(data, order, batchSize, from, to).stream().map(ImageBatch::toDataSet).toList();
    }

    /** The same mini-batches as raw bytes, to ship to Spark executors. */
    public static List<ImageBatch> compactBatches(ImageData data, int[] order, int batchSize, int from, int to)
    {
        List<ImageBatch> result = new ArrayList<>(to - from);
        for (int b = from; b < to; b++) {
            int start = b * batchSize;
            int end = Math.min(data.size(), start + batchSize);
            result.add(compact(data, order, start, end));
        }
        return result;
    }

    public static int batchCount(int size, int batchSize)
    {
        return (size + batchSize - 1) / batchSize;
    }

    /** Images {@code order[start..end)} as one DataSet (features N x C x H x W). */
    public static DataSet batch(ImageData data, int[] order, int start, int end)
    {
        return compact(data, order, start, end).toDataSet();
    }

    /** Images {@code order[start..end)} (all in place when {@code order} is null) as raw bytes. */
    public static ImageBatch compact(ImageData data, int[] order, int start, int end)
    {
        int n = end - start;
        int bytes = data.imageBytes();
        byte[] pixels = new byte[n * bytes];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int image = order == null ? start + i : order[start + i];
            System.arraycopy(data.pixels(), image * bytes, pixels, i * bytes, bytes);
            labels[i] = data.labels()[image];
        }
        return new ImageBatch(data.channels(), data.height(), data.width(), data.classes(), pixels, labels);
    }
}
