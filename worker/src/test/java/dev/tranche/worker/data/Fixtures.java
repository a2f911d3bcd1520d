package dev.tranche.worker.data;

import javax.imageio.ImageIO;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Small data sets written in the real formats, so format and corruption tests need no download. */
public final class Fixtures
{
    private Fixtures() {}

    /** An MNIST-style directory: 4 files, {@code train}/{@code test} images of 28x28, gzipped or not. */
    public static void idx(Path dir, int train, int test, boolean gzip)
            throws IOException
    {
        Files.createDirectories(dir);
        Random random = new Random(7);
        idxPair(dir, "train", train, gzip, random);
        idxPair(dir, "t10k", test, gzip, random);
    }

    private static void idxPair(Path dir, String prefix, int n, boolean gzip, Random random)
            throws IOException
    {
        byte[] labels = new byte[n];
        byte[] pixels = new byte[n * 28 * 28];
        for (int i = 0; i < n; i++) {
            int label = random.nextInt(10);
            labels[i] = (byte) label;
            // a learnable pattern: class c lights up row band c
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    boolean on = y / 3 == label;
                    pixels[i * 784 + y * 28 + x] = (byte) (on ? 200 + random.nextInt(55) : random.nextInt(40));
                }
            }
        }
        write(dir.resolve(prefix + "-labels-idx1-ubyte" + (gzip ? ".gz" : "")), idxBytes(IdxFiles.LABELS_MAGIC, new int[] {n}, labels), gzip);
        write(dir.resolve(prefix + "-images-idx3-ubyte" + (gzip ? ".gz" : "")), idxBytes(IdxFiles.IMAGES_MAGIC, new int[] {n, 28, 28}, pixels), gzip);
    }

    public static byte[] idxBytes(int magic, int[] dims, byte[] data)
            throws IOException
    {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        for (int d : dims) {
            out.writeInt(d);
        }
        out.write(data);
        out.flush();
        return bytes.toByteArray();
    }

    public static void write(Path file, byte[] bytes, boolean gzip)
            throws IOException
    {
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(bytes);
        }
    }

    /** CIFAR-10 binary files with {@code perBatch} records each (5 training batches and the test batch). */
    public static void cifar(Path dir, int perBatch)
            throws IOException
    {
        Files.createDirectories(dir);
        Random random = new Random(11);
        for (int b = 1; b <= 5; b++) {
            Files.write(dir.resolve("data_batch_" + b + ".bin"), cifarRecords(perBatch, random));
        }
        Files.write(dir.resolve("test_batch.bin"), cifarRecords(perBatch, random));
    }

    static byte[] cifarRecords(int n, Random random)
    {
        byte[] bytes = new byte[n * Cifar10Files.RECORD];
        for (int i = 0; i < n; i++) {
            int label = random.nextInt(10);
            bytes[i * Cifar10Files.RECORD] = (byte) label;
            for (int p = 1; p < Cifar10Files.RECORD; p++) {
                bytes[i * Cifar10Files.RECORD + p] = (byte) ((p % 1024) / 103 == label ? 220 : random.nextInt(30));
            }
        }
        return bytes;
    }

    /** An image folder: {@code classes} sub-folders of {@code perClass} PNGs, each class its own colour. */
    public static void imageFolder(Path dir, int classes, int perClass, int size)
            throws IOException
    {
        Random random = new Random(3);
        for (int c = 0; c < classes; c++) {
            Path classDir = dir.resolve("class-" + c);
            Files.createDirectories(classDir);
            for (int i = 0; i < perClass; i++) {
                BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        int base = c == 0 ? 0xC02020 : c == 1 ? 0x20C020 : 0x2020C0;
                        image.setRGB(x, y, base + random.nextInt(16));
                    }
                }
                ImageIO.write(image, "png", classDir.resolve(String.format("img-%03d.png", i)).toFile());
            }
        }
    }
}
