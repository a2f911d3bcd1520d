package dev.tranche.worker.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * A Spark standalone Worker starts executors as {@code java -cp $SPARK_HOME/jars/*:extraClassPath};
 * we ship no Spark distribution, so this lays out one made of links to the jars this JVM already
 * runs on. Class directories (a source checkout's target/classes) go to the executors' extra class
 * path instead. Paths are absolute, so every replica of a gang must see the same files (the same
 * checkout or the same image).
 */
public record SparkHome(Path home, List<String> classDirectories)
{
    public SparkHome
    {
        classDirectories = List.copyOf(classDirectories);
    }

    public static SparkHome create(Path parent)
    {
        try {
            Path home = Files.createDirectories(parent.resolve("spark-home"));
            Path jars = Files.createDirectories(home.resolve("jars"));
            Files.writeString(home.resolve("RELEASE"), "Spark from the Tranche worker's class path\n");
            List<String> dirs = new ArrayList<>();
            for (Path entry : classPath()) {
                if (Files.isDirectory(entry)) {
                    dirs.add(entry.toAbsolutePath().toString());
                }
                else if (Files.isRegularFile(entry) && entry.toString().endsWith(".jar")) {
                    Path link = jars.resolve(entry.getFileName());
                    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, entry.toAbsolutePath());
                    }
                }
            }
            return new SparkHome(home, dirs);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot lay out a Spark home under " + parent, e);
        }
    }

    public String extraClassPath()
    {
        return String.join(File.pathSeparator, classDirectories);
    }

    /** This JVM's class path, with a manifest-only jar (as test runners use) expanded. */
    static List<Path> classPath()
    {
        List<Path> out = new ArrayList<>();
        for (String part : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (part.isEmpty()) {
                continue;
            }
            Path path = Path.of(part);
            out.add(path);
            if (part.endsWith(".jar") && Files.isRegularFile(path)) {
                try (JarFile jar = new JarFile(path.toFile())) {
                    Manifest manifest = jar.getManifest();
                    String classPath = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
                    if (classPath != null) {
                        for (String url : classPath.trim().split("\\s+")) {
                            out.add(url.startsWith("file:") ? Path.of(URI.create(url)) : path.resolveSibling(url));
                        }
                    }
                }
                catch (IOException ignored) {
                    // not a readable jar: it is on the class path as it is
                }
            }
        }
        return out;
    }
}
