package dev.tranche.worker.data;

import static java.util.Objects.requireNonNull;

/**
 * Images as raw 8-bit pixels, channel-first (CHW) per image, with their labels. Kept as bytes (a
 * quarter of the floats' size) until a batch is built.
 */
public record ImageData(int channels, int height, int width, int classes, byte[] pixels, int[] labels)
{
    public ImageData
    {
        requireNonNull(pixels, "pixels is null");
        requireNonNull(labels, "labels is null");
        if (channels < 1 || height < 1 || width < 1 || classes < 2) {
            throw new IllegalArgumentException("bad shape: " + channels + "x" + height + "x" + width + ", " + classes + " classes");
        }
        if ((long) labels.length * channels * height * width != pixels.length) {
            throw new IllegalArgumentException("pixels hold " + pixels.length + " bytes, expected " + labels.length + " images of " + channels * height * width);
        }
        for (int label : labels) {
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("label " + label + " outside [0, " + classes + ")");
            }
        }
    }

    public int size()
    {
        return labels.length;
    }

    public int imageBytes()
    {
        return channels * height * width;
    }

    /** The first {@code n} images (all when {@code n} is 0 or at least the size). */
    public ImageData first(int n)
    {
        if (n <= 0 || n >= size()) {
            return this;
        }
        byte[] p = new byte[n * imageBytes()];
        System.arraycopy(pixels, 0, p, 0, p.length);
        int[] l = new int[n];
        System.arraycopy(labels, 0, l, 0, n);
        return new ImageData(channels, height, width, classes, p, l);
    }
}
