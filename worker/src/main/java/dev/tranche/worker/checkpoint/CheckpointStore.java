package dev.tranche.worker.checkpoint;

import dev.tranche.worker.model.Models;
import dev.tranche.worker.model.Net;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static java.util.Objects.requireNonNull;

/**
 * Checkpoints in one directory, one file each: {@code epoch-0003-batch-000000.ckpt}, a zip of the
 * DL4J model (with updater state), the position and a CRC of the model. A file is written under a
 * temporary name, forced to disk and renamed, so a crash leaves either the old set or the new file,
 * never half a file under a checkpoint's name; one that is damaged anyway is skipped with a warning.
 */
public final class CheckpointStore
{
    private static final Pattern NAME = Pattern.compile("epoch-(\\d{4,})-batch-(\\d{6,})\\.ckpt");
    /** A write in progress: {@code .tmp-NAME-PID}, renamed to NAME once complete. */
    private static final Pattern TEMPORARY = Pattern.compile("\\.tmp-.+-(\\d+)");
    /** A temporary file untouched this long belongs to no write in progress, whatever its process id. */
    private static final java.time.Duration ABANDONED = java.time.Duration.ofHours(1);
    private static final String STATE = "state.properties";
    private static final String MODEL = "model.zip";
    private static final String BEST = "best.ckpt";
    /** Older complete checkpoints kept besides the newest, in case the newest is damaged later. */
    private static final int KEEP = 2;

    /** The largest byte array a JVM reliably allocates. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Path directory;
    private final PrintStream warnings;
    private final Limits limits;

    public CheckpointStore(Path directory, PrintStream warnings)
    {
        this(directory, warnings, null);
    }

    CheckpointStore(Path directory, PrintStream warnings, Limits limits)
    {
        this.directory = requireNonNull(directory, "directory is null");
        this.warnings = requireNonNull(warnings, "warnings is null");
        this.limits = limits == null ? Limits.DEFAULT : limits;
    }

    /**
     * How much a checkpoint may unpack to, so a damaged or planted file of a few kilobytes that unpacks
     * to gigabytes (a zip bomb) is skipped rather than taking the worker's memory.
     *
     * @param modelBytes the model entry ({@code model.zip}), which is held in one array
     * @param entryBytes any other entry ({@code state.properties} is a few hundred bytes)
     * @param totalBytes all entries together
     * @param unpackedModelFloor the model's own zip unpacks to at most this, or {@code unpackedModelRatio}
     *         times its packed size where that is more (trained weights hardly compress)
     */
    record Limits(long modelBytes, long entryBytes, long totalBytes, long unpackedModelFloor, int unpackedModelRatio)
    {
        static final Limits DEFAULT = new Limits(MAX_ARRAY, 1 << 20, MAX_ARRAY, 256L << 20, 16);

        long unpackedModel(long packed)
        {
            return Math.max(unpackedModelFloor, packed * unpackedModelRatio);
        }
    }

    public Path directory()
    {
        return directory;
    }

    /**
     * Writes a checkpoint atomically and returns its file; older ones beyond the kept few are removed.
     * {@code shape} is the images and classes the model was built for, recorded so a resume with other
     * data is refused naming the difference.
     */
    public Path save(Net net, boolean graph, Models.Shape shape, int epochsDone, int batchesDone, long seed, long rngState)
            throws IOException
    {
        Path target = write(String.format("epoch-%04d-batch-%06d.ckpt", epochsDone, batchesDone), net, graph, epochsDone, batchesDone, seed, rngState,
                shape(shape));
        prune();
        return target;
    }

    /**
     * Writes the model that did best on the validation images so far ({@code best.ckpt}, replaced
     * each time): the one a finished run hands over and tests, whatever later epochs did.
     */
    public Path saveBest(Net net, boolean graph, Models.Shape shape, long seed, Best best)
            throws IOException
    {
        Properties extra = shape(shape);
        extra.setProperty("validation_accuracy", Double.toString(best.validationAccuracy()));
        extra.setProperty("validation_loss", Double.toString(best.validationLoss()));
        return write(BEST, net, graph, best.epoch(), 0, seed, 0, extra);
    }

    private static Properties shape(Models.Shape shape)
    {
        Properties properties = new Properties();
        properties.setProperty("input_shape", shape.channels() + "x" + shape.height() + "x" + shape.width());
        properties.setProperty("classes", Integer.toString(shape.classes()));
        return properties;
    }

    /** The best model on validation so far, if one was written and loads. */
    public Optional<Checkpoint> best()
    {
        Path file = directory.resolve(BEST);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(load(file));
        }
        catch (IOException | RuntimeException e) {
            warnings.println("warning: skipping damaged best-model checkpoint " + file + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    /** Where the best model on validation stood: its epoch (1-based) and its validation numbers. */
    public record Best(int epoch, double validationAccuracy, double validationLoss)
    {
        public Best
        {
            if (epoch < 1) {
                throw new IllegalArgumentException("epoch must be at least 1: got " + epoch);
            }
        }
    }

    private Path write(String name, Net net, boolean graph, int epochsDone, int batchesDone, long seed, long rngState, Properties extra)
            throws IOException
    {
        Files.createDirectories(directory);
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        net.write(model);
        byte[] modelBytes = model.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(modelBytes);

        Properties state = new Properties();
        state.putAll(extra);
        state.setProperty("epochs_done", Integer.toString(epochsDone));
        state.setProperty("batches_done", Integer.toString(batchesDone));
        state.setProperty("seed", Long.toString(seed));
        state.setProperty("rng_state", Long.toString(rngState));
        state.setProperty("graph", Boolean.toString(graph));
        state.setProperty("model_crc32", Long.toString(crc.getValue()));
        state.setProperty("model_bytes", Integer.toString(modelBytes.length));

        Path target = directory.resolve(name);
        Path temp = directory.resolve(".tmp-" + name + "-" + ProcessHandle.current().pid());
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                try (OutputStream out = java.nio.channels.Channels.newOutputStream(channel);
                        ZipOutputStream zip = new ZipOutputStream(out)) {
                    zip.putNextEntry(new ZipEntry(MODEL));
                    zip.write(modelBytes);
                    zip.closeEntry();
                    // the state goes last: a file cut short anywhere lacks it and is refused
                    zip.putNextEntry(new ZipEntry(STATE));
                    state.store(zip, "tranche checkpoint");
                    zip.closeEntry();
                    zip.finish();
                    channel.force(true);
                }
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (IOException | RuntimeException e) {
            // a failed write (a full disk, say) must not leave a checkpoint's worth of temporary file behind
            try {
                Files.deleteIfExists(temp);
            }
            catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        forceDirectory();
        return target;
    }

    /**
     * Removes the temporary files of writes that will never finish, as a worker killed mid-write left
     * them (a checkpoint's size each), and returns how many; called when training starts. Stale is a
     * file of a process id that no longer runs, of this process's own id (a restarted container gets
     * the same one, and this process has written nothing yet), or untouched for an hour; one another
     * running process is writing stays. They are never read as checkpoints either way.
     */
    public int removeStaleTemporaries()
    {
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> s = Files.list(directory)) {
            s.filter(p -> TEMPORARY.matcher(p.getFileName().toString()).matches()).filter(this::stale).forEach(stale::add);
        }
        catch (IOException e) {
            warnings.println("warning: cannot list " + directory + " for leftover temporary checkpoint files: " + e.getMessage());
            return 0;
        }
        int removed = 0;
        for (Path file : stale) {
            try {
                if (Files.deleteIfExists(file)) {
                    removed++;
                }
            }
            catch (IOException e) {
                warnings.println("warning: cannot remove leftover temporary checkpoint file " + file + ": " + e.getMessage());
            }
        }
        if (removed > 0) {
            warnings.println("removed " + removed + " leftover temporary checkpoint " + (removed == 1 ? "file" : "files")
                    + " of interrupted writes from " + directory);
        }
        return removed;
    }

    private boolean stale(Path file)
    {
        Matcher m = TEMPORARY.matcher(file.getFileName().toString());
        if (!m.matches()) {
            return false;
        }
        try {
            if (Files.getLastModifiedTime(file).toMillis() < System.currentTimeMillis() - ABANDONED.toMillis()) {
                return true;
            }
        }
        catch (IOException e) {
            // gone meanwhile, or unreadable: the process test decides
        }
        long pid;
        try {
            pid = Long.parseLong(m.group(1));
        }
        catch (NumberFormatException e) {
            return true;
        }
        return pid == ProcessHandle.current().pid() || ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }

    /** The newest checkpoint that loads; damaged ones are skipped with a warning. */
    public Optional<Checkpoint> latest()
    {
        for (Path file : candidates()) {
            try {
                return Optional.of(load(file));
            }
            catch (IOException | RuntimeException e) {
                warnings.println("warning: skipping damaged checkpoint " + file + ": " + e.getMessage());
            }
        }
        return Optional.empty();
    }

    Checkpoint load(Path file)
            throws IOException
    {
        return load(file, limits);
    }

    static Checkpoint load(Path file, Limits limits)
            throws IOException
    {
        byte[] model = null;
        Properties state = null;
        long total = 0;
        try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                long bound = entry.getName().equals(MODEL) ? limits.modelBytes() : limits.entryBytes();
                byte[] bytes = readBounded(zip, entry.getName(), bound, limits.totalBytes() - total, limits.totalBytes());
                total += bytes.length;
                if (entry.getName().equals(MODEL)) {
                    model = bytes;
                }
                else if (entry.getName().equals(STATE)) {
                    state = new Properties();
                    state.load(new java.io.InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.ISO_8859_1));
                }
            }
        }
        if (model == null || state == null) {
            throw new IOException("incomplete (no " + (model == null ? MODEL : STATE) + " entry)");
        }
        CRC32 crc = new CRC32();
        crc.update(model);
        if (crc.getValue() != number(state, "model_crc32")) {
            throw new IOException("model CRC mismatch");
        }
        checkUnpackedModel(model, limits.unpackedModel(model.length));
        boolean graph = Boolean.parseBoolean(state.getProperty("graph"));
        Net net = Net.read(new ByteArrayInputStream(model), graph);
        String accuracy = state.getProperty("validation_accuracy");
        int epochsDone = Math.toIntExact(number(state, "epochs_done"));
        Optional<Best> best = accuracy == null ? Optional.empty() : Optional.of(new Best(epochsDone, decimal(state, "validation_accuracy"), decimal(state, "validation_loss")));
        return new Checkpoint(file, net, epochsDone, Math.toIntExact(number(state, "batches_done")), number(state, "seed"), number(state, "rng_state"), best,
                shape(state));
    }

    /** The recorded images and classes; none in a checkpoint written before they were recorded. */
    private static Optional<Models.Shape> shape(Properties state)
            throws IOException
    {
        String input = state.getProperty("input_shape");
        if (input == null) {
            return Optional.empty();
        }
        Matcher m = Pattern.compile("(\\d{1,9})x(\\d{1,9})x(\\d{1,9})").matcher(input.trim());
        if (!m.matches()) {
            throw new IOException(STATE + ": input_shape is not CHANNELSxHEIGHTxWIDTH: '" + input + "'");
        }
        try {
            return Optional.of(new Models.Shape(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                    Math.toIntExact(number(state, "classes"))));
        }
        catch (IllegalArgumentException | ArithmeticException e) {
            throw new IOException(STATE + ": implausible input_shape " + input + " with classes " + state.getProperty("classes"));
        }
    }

    /** The entry's bytes, refused once past its own bound or what is left of the total. */
    private static byte[] readBounded(InputStream in, String name, long bound, long totalLeft, long total)
            throws IOException
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        long read = 0;
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            read += n;
            if (read > bound) {
                throw new IOException("entry " + name + " unpacks to more than " + bound + " bytes: not a checkpoint as a worker writes it");
            }
            if (read > totalLeft) {
                throw new IOException("the entries unpack to more than " + total + " bytes in all: not a checkpoint as a worker writes it");
            }
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    /** The model's own zip, unpacked and counted before the model reader (which reads it whole) sees it. */
    private static void checkUnpackedModel(byte[] model, long bound)
            throws IOException
    {
        byte[] buffer = new byte[1 << 16];
        long read = 0;
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(model))) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                for (int n = zip.read(buffer); n >= 0; n = zip.read(buffer)) {
                    read += n;
                    if (read > bound) {
                        throw new IOException("the model (" + MODEL + ") unpacks to more than " + bound + " bytes, " + model.length
                                + " packed: not a model as a worker writes it");
                    }
                }
            }
        }
    }

    // a damaged state names the field, not just "Cannot parse null string"
    private static long number(Properties state, String key)
            throws IOException
    {
        try {
            return Long.parseLong(field(state, key).trim());
        }
        catch (NumberFormatException e) {
            throw new IOException(STATE + ": " + key + " is not a whole number: '" + state.getProperty(key) + "'");
        }
    }

    private static double decimal(Properties state, String key)
            throws IOException
    {
        try {
            return Double.parseDouble(field(state, key).trim());
        }
        catch (NumberFormatException e) {
            throw new IOException(STATE + ": " + key + " is not a number: '" + state.getProperty(key) + "'");
        }
    }

    private static String field(Properties state, String key)
            throws IOException
    {
        String value = state.getProperty(key);
        if (value == null) {
            throw new IOException(STATE + " has no " + key);
        }
        return value;
    }

    /** Checkpoint files, newest position first. */
    List<Path> candidates()
    {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(directory)) {
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches()).forEach(files::add);
        }
        catch (IOException e) {
            warnings.println("warning: cannot list checkpoints in " + directory + ": " + e.getMessage());
            return List.of();
        }
        files.sort(Comparator.comparing(CheckpointStore::position).reversed());
        return files;
    }

    private static Long position(Path file)
    {
        Matcher m = NAME.matcher(file.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException(file.toString());
        }
        return Long.parseLong(m.group(1)) * 1_000_000_000L + Long.parseLong(m.group(2));
    }

    private void prune()
    {
        List<Path> files = candidates();
        for (int i = KEEP + 1; i < files.size(); i++) {
            try {
                Files.deleteIfExists(files.get(i));
            }
            catch (IOException e) {
                warnings.println("warning: cannot remove old checkpoint " + files.get(i) + ": " + e.getMessage());
            }
        }
    }

    private void forceDirectory()
    {
        // makes the rename itself durable; some file systems refuse to open a directory, which is fine
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
        catch (IOException | UnsupportedOperationException ignored) {
        }
    }
}
