package dev.tranche.worker.data;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A folder with one sub-folder per class (sorted by name: the first is class 0), each holding
 * PNG/JPEG/BMP/GIF images. Every image is scaled to {@code size x size} RGB.
 */
public final class ImageFolders
{
    public static final int SIZE = 32;
    /** Larger images are refused before decoding: one decoded image takes 4 bytes a pixel. */
    static final long MAX_PIXELS = 40_000_000;

    private ImageFolders() {}

    public static ImageData read(Path dir)
    {
        if (!Files.isDirectory(dir)) {
            throw new DatasetFormatException(dir, "image folder not found");
        }
        List<Path> classes;
        try (Stream<Path> s = Files.list(dir)) {
            classes = s.filter(Files::isDirectory).sorted().toList();
        }
        catch (IOException e) {
            throw new DatasetFormatException(dir, "cannot be listed: " + e.getMessage(), e);
        }
        if (classes.size() < 2) {
            throw new DatasetFormatException(dir, "needs one sub-folder per class and at least 2 classes, found " + classes.size());
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            try (Stream<Path> s = Files.list(classes.get(c))) {
                List<Path> images = s.filter(Files::isRegularFile).filter(ImageFolders::isImage).sorted().toList();
                if (images.isEmpty()) {
                    throw new DatasetFormatException(classes.get(c), "class folder holds no images (.png, .jpg, .jpeg, .bmp, .gif)");
                }
                for (Path image : images) {
                    files.add(image);
                    labels.add(c);
                }
            }
            catch (IOException e) {
                throw new DatasetFormatException(classes.get(c), "cannot be listed: " + e.getMessage(), e);
            }
        }
        int plane = SIZE * SIZE;
        byte[] pixels = new byte[pixelBytes(dir, files.size())];
        int[] labelArray = new int[files.size()];
        for (int i = 0; i < files.size(); i++) {
            BufferedImage image = decode(files.get(i));
            BufferedImage scaled = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = scaled.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(image, 0, 0, SIZE, SIZE, null);
            g.dispose();
            int base = i * 3 * plane;
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    int rgb = scaled.getRGB(x, y);
                    int at = y * SIZE + x;
                    pixels[base + at] = (byte) (rgb >> 16);
                    pixels[base + plane + at] = (byte) (rgb >> 8);
                    pixels[base + 2 * plane + at] = (byte) rgb;
                }
            }
            labelArray[i] = labels.get(i);
        }
        return new ImageData(3, SIZE, SIZE, classes.size(), pixels, labelArray);
    }

    /**
     * The bytes {@code images} images take once scaled, refused before any is decoded past one Java
     * array (long: 699,051 images and more wrapped to a negative size in int arithmetic).
     */
    static int pixelBytes(Path dir, int images)
    {
        long bytes = (long) images * 3 * SIZE * SIZE;
        if (bytes > Files2.MAX_ARRAY) {
            throw new DatasetFormatException(dir, images + " images of " + SIZE + "x" + SIZE + " RGB are " + bytes + " bytes, more than one Java array holds ("
                    + Files2.MAX_ARRAY + " bytes); at most " + Files2.MAX_ARRAY / (3 * SIZE * SIZE) + " images can be loaded");
        }
        return (int) bytes;
    }

    private static BufferedImage decode(Path file)
    {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? java.util.Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new DatasetFormatException(file, "not a readable image (unknown or damaged format)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                // the decoder sizes its raster from the header: a 25000x25000 PNG of a few bytes took 1.9 GB before failing
                long width = reader.getWidth(0);
                long height = reader.getHeight(0);
                if (width * height > MAX_PIXELS) {
                    throw new DatasetFormatException(file, "image of " + width + "x" + height + " is more than " + MAX_PIXELS / 1_000_000
                            + " megapixels; every image is scaled to " + SIZE + "x" + SIZE + ", so scale it down first");
                }
                return reader.read(0);
            }
            finally {
                reader.dispose();
            }
        }
        catch (IOException e) {
            throw new DatasetFormatException(file, "not a readable image: " + e.getMessage(), e);
        }
    }

    private static boolean isImage(Path file)
    {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg") || name.endsWith(".bmp") || name.endsWith(".gif");
    }
}
