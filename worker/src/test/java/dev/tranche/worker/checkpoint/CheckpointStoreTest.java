package dev.tranche.worker.checkpoint;

import dev.tranche.proto.v1.ModelSpec;
import dev.tranche.proto.v1.TrainingSpec;
import dev.tranche.worker.model.Models;
import dev.tranche.worker.model.Net;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CheckpointStoreTest
{
    @TempDir
    Path dir;

    private static final Models.Shape SHAPE = new Models.Shape(1, 28, 28, 10);

    private final ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    private CheckpointStore store;

    @BeforeEach
    void createStore()
    {
        // inside the test's own directory (removed after it), not yet created: the store makes it
        store = new CheckpointStore(dir.resolve("checkpoints"), new PrintStream(warnings, true, StandardCharsets.UTF_8));
    }

    @Test
    void roundTripKeepsParametersUpdaterStateAndPosition()
            throws IOException
    {
        Net net = trainedNet();
        store.save(net, false, SHAPE, 3, 17, 42, 99);
        Checkpoint restored = store.latest().orElseThrow();
        assertThat(restored.epochsDone()).isEqualTo(3);
        assertThat(restored.batchesDone()).isEqualTo(17);
        assertThat(restored.seed()).isEqualTo(42);
        assertThat(restored.rngState()).isEqualTo(99);
        assertThat(restored.shape()).contains(SHAPE);
        MultiLayerNetwork before = ((Net.Stack) net).network();
        MultiLayerNetwork after = ((Net.Stack) restored.net()).network();
        assertThat(after.params()).isEqualTo(before.params());
        assertThat(after.getUpdater().getStateViewArray()).isEqualTo(before.getUpdater().getStateViewArray());
        assertThat(store.directory()).isDirectoryNotContaining("glob:**.tmp-*");
    }

    @Test
    void newestCompleteWinsAndDamagedOnesAreSkippedWithAWarning()
            throws IOException
    {
        Net net = trainedNet();
        store.save(net, false, SHAPE, 1, 0, 1, 1);
        store.save(net, false, SHAPE, 2, 0, 1, 1);
        Path third = store.save(net, false, SHAPE, 2, 40, 1, 1);
        assertThat(store.latest().orElseThrow().batchesDone()).isEqualTo(40);

        byte[] bytes = Files.readAllBytes(third);
        Files.write(third, Arrays.copyOf(bytes, bytes.length / 2));
        Checkpoint fallback = store.latest().orElseThrow();
        assertThat(fallback.epochsDone()).isEqualTo(2);
        assertThat(fallback.batchesDone()).isZero();
        assertThat(warnings.toString(StandardCharsets.UTF_8)).contains("skipping damaged checkpoint").contains(third.getFileName().toString());

        // a half-written temporary file from a crash is never taken for a checkpoint
        Files.write(store.directory().resolve(".tmp-epoch-0009-batch-000000.ckpt-1"), new byte[10]);
        assertThat(store.latest().orElseThrow().epochsDone()).isEqualTo(2);
    }

    /**
     * A worker killed mid-write left its temporary file (a checkpoint's size) behind for good. The
     * next start removes those of writers that are gone; one a running process is still writing stays.
     */
    @Test
    void leftoverTemporaryFilesOfGoneWritersAreRemovedAtStart()
            throws Exception
    {
        Net net = trainedNet();
        store.save(net, false, SHAPE, 1, 0, 1, 1);
        Process finished = new ProcessBuilder("true").start();
        finished.waitFor();
        Process running = new ProcessBuilder("sleep", "60").start();
        try {
            Path ckpt = store.directory();
            Path ofAGoneWorker = Files.write(ckpt.resolve(".tmp-epoch-0002-batch-000000.ckpt-" + finished.pid()), new byte[1000]);
            Path bestOfAGoneWorker = Files.write(ckpt.resolve(".tmp-best.ckpt-" + finished.pid()), new byte[1000]);
            // a container restarts with the same process id: an earlier incarnation's file, as this one has written nothing yet
            Path ofThisProcessId = Files.write(ckpt.resolve(".tmp-epoch-0003-batch-000000.ckpt-" + ProcessHandle.current().pid()), new byte[1000]);
            Path beingWritten = Files.write(ckpt.resolve(".tmp-epoch-0002-batch-000000.ckpt-" + running.pid()), new byte[1000]);
            Path abandonedLongAgo = Files.write(ckpt.resolve(".tmp-epoch-0001-batch-000000.ckpt-" + running.pid() + "0"), new byte[1000]);
            Files.setLastModifiedTime(abandonedLongAgo, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 2 * 3600_000L));
            Path notOurs = Files.write(ckpt.resolve("notes.txt"), new byte[10]);

            assertThat(store.removeStaleTemporaries()).isEqualTo(4);

            assertThat(ofAGoneWorker).doesNotExist();
            assertThat(bestOfAGoneWorker).doesNotExist();
            assertThat(ofThisProcessId).doesNotExist();
            assertThat(abandonedLongAgo).doesNotExist();
            assertThat(beingWritten).exists();
            assertThat(notOurs).exists();
            assertThat(store.latest().orElseThrow().epochsDone()).isEqualTo(1);
            assertThat(warnings.toString(StandardCharsets.UTF_8)).contains("removed 4 leftover temporary checkpoint files");
        }
        finally {
            running.destroy();
        }
        // no directory yet: nothing to do
        assertThat(new CheckpointStore(dir.resolve("none"), new PrintStream(warnings, true, StandardCharsets.UTF_8)).removeStaleTemporaries()).isZero();
    }

    @Test
    void keepsOnlyTheNewestFew()
            throws IOException
    {
        Net net = trainedNet();
        for (int epoch = 1; epoch <= 6; epoch++) {
            store.save(net, false, SHAPE, epoch, 0, 1, 1);
        }
        assertThat(store.candidates()).hasSize(3);
        assertThat(store.candidates().get(0).getFileName().toString()).isEqualTo("epoch-0006-batch-000000.ckpt");
    }

    /** A write that failed left its temporary file behind, a checkpoint's worth of disk each time (a full disk only got fuller). */
    @Test
    void failedWriteLeavesNoTemporaryFile()
            throws IOException
    {
        Net net = trainedNet();
        // a non-empty directory under the checkpoint's name makes the final rename fail
        Files.createDirectories(store.directory().resolve("epoch-0001-batch-000000.ckpt").resolve("in-the-way"));
        assertThatThrownBy(() -> store.save(net, false, SHAPE, 1, 0, 1, 1)).isInstanceOf(IOException.class);
        assertThat(store.directory()).isDirectoryNotContaining("glob:**.tmp-*");
    }

    /** A checkpoint whose state lacked a field was skipped with only "Cannot parse null string" as the reason. */
    @Test
    void checkpointWithAMissingStateFieldIsSkippedNamingTheField()
            throws IOException
    {
        Path file = store.save(trainedNet(), false, SHAPE, 1, 0, 1, 1);
        byte[] model;
        try (var zip = new java.util.zip.ZipInputStream(Files.newInputStream(file))) {
            zip.getNextEntry();
            model = zip.readAllBytes();
        }
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(file))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("model.zip"));
            zip.write(model);
            zip.putNextEntry(new java.util.zip.ZipEntry("state.properties"));
            zip.write("epochs_done=1\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        assertThat(store.latest()).isEmpty();
        assertThat(warnings.toString(StandardCharsets.UTF_8)).contains("skipping damaged checkpoint " + file + ": state.properties has no model_crc32");
    }

    /**
     * Entries were read with readAllBytes, unbounded: a few kilobytes that unpack to gigabytes (a zip
     * bomb) took the worker's memory. The state, any other entry and the model each have a bound.
     */
    @Test
    void stateEntryThatUnpacksPastItsBoundIsSkippedNamingTheEntry()
            throws IOException
    {
        Path file = store.save(trainedNet(), false, SHAPE, 1, 0, 1, 1);
        byte[] model = entry(file, "model.zip");
        String state = new String(entry(file, "state.properties"), StandardCharsets.ISO_8859_1);
        // valid fields, then 2 MiB of a comment: packs to a few kilobytes
        rewrite(file, "model.zip", model, "state.properties", (state + "#" + " ".repeat(2 << 20) + "\n").getBytes(StandardCharsets.ISO_8859_1));
        assertThat(store.latest()).isEmpty();
        assertThat(warnings.toString(StandardCharsets.UTF_8))
                .contains("skipping damaged checkpoint " + file + ": entry state.properties unpacks to more than 1048576 bytes");

        rewrite(file, "model.zip", model, "state.properties", state.getBytes(StandardCharsets.ISO_8859_1), "padding.bin", new byte[2 << 20]);
        assertThat(store.latest()).isEmpty();
        assertThat(warnings.toString(StandardCharsets.UTF_8))
                .contains("skipping damaged checkpoint " + file + ": entry padding.bin unpacks to more than 1048576 bytes");

        rewrite(file, "model.zip", model, "state.properties", state.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(store.latest()).isPresent();
    }

    @Test
    void modelThatUnpacksPastItsBoundsIsSkippedNamingTheBound()
            throws IOException
    {
        Path dir = store.directory();
        Path file = store.save(trainedNet(), false, SHAPE, 1, 0, 1, 1);
        byte[] model = entry(file, "model.zip");
        byte[] state = entry(file, "state.properties");

        // the model entry itself
        CheckpointStore small = new CheckpointStore(dir, new PrintStream(warnings, true, StandardCharsets.UTF_8),
                new CheckpointStore.Limits(model.length - 1, 1 << 20, 1L << 30, 1L << 30, 16));
        assertThat(small.latest()).isEmpty();
        assertThat(warnings.toString(StandardCharsets.UTF_8)).contains(": entry model.zip unpacks to more than " + (model.length - 1) + " bytes");

        // all entries together
        CheckpointStore tight = new CheckpointStore(dir, new PrintStream(warnings, true, StandardCharsets.UTF_8),
                new CheckpointStore.Limits(1L << 30, 1 << 20, model.length + 10, 1L << 30, 16));
        assertThat(tight.latest()).isEmpty();
        assertThat(warnings.toString(StandardCharsets.UTF_8)).contains(": the entries unpack to more than " + (model.length + 10) + " bytes in all");

        // the model's own zip: a few kilobytes that unpack to 8 MiB of zeros, CRC and all correct
        java.io.ByteArrayOutputStream bomb = new java.io.ByteArrayOutputStream();
        try (var zip = new java.util.zip.ZipOutputStream(bomb)) {
            zip.putNextEntry(new java.util.zip.ZipEntry("coefficients.bin"));
            zip.write(new byte[8 << 20]);
        }
        byte[] bombBytes = bomb.toByteArray();
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bombBytes);
        String bombState = new String(state, StandardCharsets.ISO_8859_1)
                .replaceAll("model_crc32=\\d+", "model_crc32=" + crc.getValue()).replaceAll("model_bytes=\\d+", "model_bytes=" + bombBytes.length);
        rewrite(file, "model.zip", bombBytes, "state.properties", bombState.getBytes(StandardCharsets.ISO_8859_1));
        CheckpointStore unpacked = new CheckpointStore(dir, new PrintStream(warnings, true, StandardCharsets.UTF_8),
                new CheckpointStore.Limits(1L << 30, 1 << 20, 1L << 30, 1 << 20, 16));
        assertThat(unpacked.latest()).isEmpty();
        assertThat(warnings.toString(StandardCharsets.UTF_8)).contains(": the model (model.zip) unpacks to more than 1048576 bytes");
    }

    private static byte[] entry(Path file, String name)
            throws IOException
    {
        try (var zip = new java.util.zip.ZipInputStream(Files.newInputStream(file))) {
            for (var e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (e.getName().equals(name)) {
                    return zip.readAllBytes();
                }
            }
        }
        throw new AssertionError("no " + name + " in " + file);
    }

    /** Writes the file anew with these entries: name, bytes, name, bytes... */
    private static void rewrite(Path file, Object... entries)
            throws IOException
    {
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(file))) {
            for (int i = 0; i < entries.length; i += 2) {
                zip.putNextEntry(new java.util.zip.ZipEntry((String) entries[i]));
                zip.write((byte[]) entries[i + 1]);
                zip.closeEntry();
            }
        }
    }

    @Test
    void emptyOrMissingDirectoryHasNone()
    {
        assertThat(store.latest()).isEmpty();
    }

    private static Net trainedNet()
    {
        ModelSpec model = ModelSpec.newBuilder().setArchitecture("lenet").addConvFilters(2).addConvFilters(4).setDenseUnits(8).build();
        TrainingSpec training = TrainingSpec.newBuilder().setOptimizer("adam").setLearningRate(0.01).setSeed(3).build();
        Net net = Models.build(model, training, SHAPE);
        net.fit(new DataSet(Nd4j.rand(4, 1, 28, 28), Nd4j.eye(10).getRows(0, 1, 2, 3)));
        return net;
    }
}
