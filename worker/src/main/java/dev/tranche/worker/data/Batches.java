package dev.tranche.worker.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

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
        List<DataSet> result = new ArrayList<>(to - from);
        for (int b = from; b < to; b++) {
            int start = b * batchSize;
            int end = Math.min(data.size(), start + batchSize);
            result.add(batch(data, order, start, end));
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
        int n = end - start;
        int bytes = data.imageBytes();
        float[] features = new float[n * bytes];
        float[] labels = new float[n * data.classes()];
        byte[] pixels = data.pixels();
        for (int i = 0; i < n; i++) {
            int image = order == null ? start + i : order[start + i];
            int src = image * bytes;
            int dst = i * bytes;
            for (int p = 0; p < bytes; p++) {
                features[dst + p] = (pixels[src + p] & 0xff) / 255f;
            }
            labels[i * data.classes() + data.labels()[image]] = 1f;
        }
        INDArray f = Nd4j.create(features, new long[] {n, data.channels(), data.height(), data.width()}, 'c');
        INDArray l = Nd4j.create(labels, new long[] {n, data.classes()}, 'c');
        return new DataSet(f, l);
    }
}
