package dev.tranche.scheduler.experiment;

import dev.tranche.spec.BuiltInDatasets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * The folders an experiment may read its data set from. Workers read {@code dataset.location} as the
 * scheduler's OS user and a failing job's message shows what they found, so a location outside these
 * folders (an admin's choice, {@code --dataset-root}) would let anyone who may submit read the
 * machine's files.
 */
public record DatasetRoots(List<Path> roots)
{
    public DatasetRoots
    {
        requireNonNull(roots, "roots is null");
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("--dataset-root needs at least one folder");
        }
        List<Path> checked = new ArrayList<>();
        for (Path root : roots) {
            if (!root.isAbsolute()) {
                throw new IllegalArgumentException("--dataset-root must be an absolute path: got " + root);
            }
            checked.add(root.normalize());
        }
        roots = List.copyOf(checked);
    }

    /** The built-in data sets' folders and {@code home}/datasets. */
    public static DatasetRoots defaults(Path home)
    {
        List<Path> roots = new ArrayList<>();
        BuiltInDatasets.folders().forEach(folder -> roots.add(Path.of(folder)));
        roots.add(home.toAbsolutePath().resolve("datasets"));
        return new DatasetRoots(roots);
    }

    /**
     * Refuses a location outside every root. The spec validator has already made sure it is a plain
     * absolute path; a location that exists here is also followed through its links, so a link inside a
     * root cannot lead outside it.
     */
    public void check(String location)
    {
        if (location.isEmpty()) {
            return;
        }
        Path path = Path.of(location);
        if (!within(path, false) || existingRealPath(path).map(real -> !within(real, true)).orElse(false)) {
            throw new IllegalArgumentException("dataset.location must be inside a folder the admin allows for data sets ("
                    + roots.stream().map(Path::toString).collect(Collectors.joining(", ")) + "): got \"" + abbreviate(location)
                    + "\"; put the data there, or ask an admin to add its folder with --dataset-root");
        }
    }

    private boolean within(Path path, boolean real)
    {
        for (Path root : roots) {
            Path base = real ? realPath(root) : root;
            if (path.startsWith(base)) {
                return true;
            }
        }
        return false;
    }

    /** Where an existing path leads through its links; empty when it does not exist (one lookup, not two). */
    private static Optional<Path> existingRealPath(Path path)
    {
        try {
            return Optional.of(path.toRealPath());
        }
        catch (NoSuchFileException e) {
            return Optional.empty();
        }
        catch (IOException e) {
            // exists but cannot be followed (a loop, no permission): judged by its name, as before
            return Files.exists(path) ? Optional.of(path) : Optional.empty();
        }
    }

    private static Path realPath(Path path)
    {
        try {
            return path.toRealPath();
        }
        catch (IOException e) {
            return path;
        }
    }

    private static String abbreviate(String text)
    {
        return text.length() <= 80 ? text : text.substring(0, 80) + "...";
    }
}
