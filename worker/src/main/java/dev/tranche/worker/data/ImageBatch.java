package dev.tranche.worker.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;

import static java.util.Objects.requireNonNull;

/**
 * One mini-batch as its raw 8-bit pixels and class labels: what Spark ships to its workers. A quarter
 * of the floats' size, and serialised as two byte arrays instead of INDArrays (whose Java
 * serialisation copies element by element), so sending a segment to the executors costs little.
 */
public record ImageBatch(int channels, int height, int width, int classes, byte[] pixels, int[] labels)
        implements Serializable
{
    public ImageBatch
    {
        requireNonNull(pixels, "pixels is null");
        requireNonNull(labels, "labels is null");
        if (pixels.length != labels.length * channels * height * width) {
            throw new IllegalArgumentException("pixels hold " + pixels.length + " bytes for " + labels.length + " images of " + channels + "x" + height + "x" + width);
        }
    }

    public int size()
    {
        return labels.length;
    }

    /** Pixels scaled to [0, 1] (features N x C x H x W), labels one-hot. */
    public DataSet toDataSet()
    {
        int n = size();
        int bytes = channels * height * width;
        float[] features = new float[n * bytes];
        for (int i = 0; i < features.length; i++) {
            features[i] = (pixels[i] & 0xff) / 255f;
        }
        float[] oneHot = new float[n * classes];
        for (int i = 0; i < n; i++) {
            oneHot[i * classes + labels[i]] = 1f;
        }
        INDArray f = Nd4j.create(features, new long[] {n, channels, height, width}, 'c');
        INDArray l = Nd4j.create(oneHot, new long[] {n, classes}, 'c');
        return new DataSet(f, l);
    }
}
