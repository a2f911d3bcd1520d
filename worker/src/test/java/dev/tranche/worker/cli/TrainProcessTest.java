package dev.tranche.worker.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.worker.data.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code tranche train} as a real child process, killed the hard way (SIGKILL) and the polite way
 * (SIGTERM), then started again on the same checkpoint directory.
 */
class TrainProcessTest
{
    @TempDir
    Path dir;

    @Test
    void sigkillInEpochTwoResumesFromTheEpochOneCheckpoint()
            throws Exception
    {
        Path spec = spec(3);
        Path checkpoints = dir.resolve("checkpoints");

        Run killed = start(spec, checkpoints, "table", "--workers", "2");
        killed.awaitLine(line -> line.startsWith("epoch 2/3  batch"));
        killed.process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertThat(killed.process.exitValue()).isEqualTo(137);
        try (Stream<Path> files = Files.list(checkpoints)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ckpt")))
                    // and the best model on validation so far: epoch 1's
                    .containsExactlyInAnyOrder("epoch-0001-batch-000000.ckpt", "best.ckpt");
        }

        Run resumed = start(spec, checkpoints, "json", "--workers", "2");
        assertThat(resumed.process.waitFor(180, TimeUnit.SECONDS)).isTrue();
        assertThat(resumed.process.exitValue()).as(resumed.output()).isZero();
        assertThat(resumed.stderr()).contains("resuming from checkpoint epoch-0001-batch-000000.ckpt");
        JsonObject result = JsonParser.parseString(resumed.lastLine()).getAsJsonObject();
        assertThat(result.get("epochs").getAsInt()).isEqualTo(3);
        assertThat(result.get("resumed_from_epoch").getAsInt()).isEqualTo(1);
        assertThat(result.getAsJsonArray("per_epoch")).hasSize(2);
        assertThat(result.get("test_accuracy").getAsDouble()).isBetween(0.0, 1.0);
        assertThat(checkpoints.resolve("epoch-0003-batch-000000.ckpt")).exists();
    }

    @Test
    void sigtermCheckpointsMidEpochWithinTheGracePeriod()
            throws Exception
    {
        Path spec = spec(2);
        Path checkpoints = dir.resolve("checkpoints");
        Run run = start(spec, checkpoints, "table", "--workers", "2");
        run.awaitLine(line -> line.startsWith("epoch 2/2  batch"));
        // the handle, not Process.destroy(): that also closes our ends of the pipes and we would miss the rest
        run.process.toHandle().destroy();
        assertThat(run.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(run.process.exitValue()).as(run.output()).isEqualTo(143);
        try (Stream<Path> files = Files.list(checkpoints)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).as(run.output())
                    .anyMatch(name -> name.matches("epoch-0001-batch-0000(0[1-9]|[1-9]\\d)\\.ckpt"));
        }
        assertThat(run.stdout()).as(run.output()).contains("stopped early, checkpointed");
    }

    @Test
    void twoReplicasFormOneStandaloneClusterAndTrain()
            throws Exception
    {
        Path spec = spec(1);
        Run run = start(spec, dir.resolve("checkpoints"), "json", "--replicas", "2", "--workers", "1");
        assertThat(run.process.waitFor(240, TimeUnit.SECONDS)).as(run.output()).isTrue();
        assertThat(run.process.exitValue()).as(run.output()).isZero();
        assertThat(run.stderr()).contains("started ranks 1..1 as local processes").contains("Spark spark://127.0.0.1:");
        JsonObject result = JsonParser.parseString(run.lastLine()).getAsJsonObject();
        assertThat(result.get("epochs").getAsInt()).isEqualTo(1);
        assertThat(result.get("test_accuracy").getAsDouble()).isGreaterThan(0.3);
        // a finished gang leaves nothing behind: not its Spark home, not its ranks' logs, not the ranks' own scratch
        try (Stream<Path> left = Files.list(tmp())) {
            assertThat(left.map(Path::toString).toList()).as(run.output()).isEmpty();
        }
    }

    /**
     * A rank killed mid-training takes the only executor with it: the driver would wait for it for
     * ever. The run stops (as on SIGTERM, within the grace), says which rank ended and where its log
     * is, keeps that log, and exits 1.
     */
    @Test
    void aRankKilledMidTrainingStopsTheRunAndKeepsTheRanksLogs()
            throws Exception
    {
        Path spec = spec(3);
        Run run = start(spec, dir.resolve("checkpoints"), "table", "--replicas", "2", "--workers", "1", "--grace-seconds", "20");
        run.awaitLine(line -> line.startsWith("epoch 1/3  batch"));
        // rank 0's only child is rank 1 (its executor is rank 1's child)
        List<ProcessHandle> children = run.process.toHandle().children().toList();
        assertThat(children).as(run.output()).hasSize(1);
        children.get(0).destroyForcibly();

        assertThat(run.process.waitFor(90, TimeUnit.SECONDS)).as(run.output()).isTrue();
        assertThat(run.process.exitValue()).as(run.output()).isEqualTo(1);
        assertThat(run.stderr()).as(run.output()).containsPattern("error: rank 1 of 2 exited \\(exit code 137\\) while training ran; its log is \\S+/logs/rank-1.log");
        String log = run.stderr().replaceAll("(?s).*its log is (\\S+/logs/rank-1\\.log).*", "$1");
        assertThat(Path.of(log)).as(run.output()).exists();
        assertThat(Files.readString(Path.of(log))).contains("rank 1/2: Spark worker with 1 cores joined");
    }

    private Path spec(int epochs)
            throws IOException
    {
        // 960 images in batches of 32: 30 batches an epoch, reported every 2 workers x 1 step x 4 rounds = 8
        Fixtures.idx(dir.resolve("data"), 960, 200, true);
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, """
                name: kill-test
                project: default
                model: {architecture: lenet, conv_filters: [8, 16], dense_units: 64}
                dataset: {kind: mnist, location: %s}
                training: {epochs: %d, batch_size: 32, optimizer: adam, learning_rate: 0.001, seed: 7}
                """.formatted(dir.resolve("data"), epochs));
        return spec;
    }

    /** The runs' temporary directory: what they leave there is checked, apart from the machine's. */
    private Path tmp()
            throws IOException
    {
        return Files.createDirectories(dir.resolve("tmp"));
    }

    private Run start(Path spec, Path checkpoints, String output, String... extra)
            throws IOException
    {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        // inherited by the ranks that --replicas starts
        command.add("-Djava.io.tmpdir=" + tmp());
        for (String flag : System.getProperty("worker.jvm.flags", "").split(" ")) {
            if (!flag.isBlank()) {
                command.add(flag);
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.tranche.cli.Tranche", "train",
                "-f", spec.toString(), "--checkpoint-dir", checkpoints.toString(), "--threads-per-worker", "1",
                "--averaging-frequency", "1", "-o", output));
        command.addAll(List.of(extra));
        Process process = new ProcessBuilder(command).start();
        return new Run(process);
    }

    private static final class Run
    {
        final Process process;
        final List<String> stdout = new CopyOnWriteArrayList<>();
        final List<String> stderr = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> outDone;

        Run(Process process)
        {
            this.process = process;
            this.outDone = pump(process.getInputStream(), stdout);
            pump(process.getErrorStream(), stderr);
        }

        private static CompletableFuture<Void> pump(java.io.InputStream in, List<String> lines)
        {
            CompletableFuture<Void> done = new CompletableFuture<>();
            // own threads: the common pool may have a single thread on a small machine
            Thread thread = new Thread(() -> {
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                        lines.add(line);
                    }
                }
                catch (IOException ignored) {
                }
                done.complete(null);
            }, "pump");
            thread.setDaemon(true);
            thread.start();
            return done;
        }

        void awaitLine(Predicate<String> predicate)
                throws InterruptedException
        {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (System.nanoTime() < deadline) {
                if (stdout.stream().anyMatch(predicate)) {
                    return;
                }
                if (!process.isAlive()) {
                    throw new AssertionError("process ended early:\n" + output());
                }
                Thread.sleep(50);
            }
            throw new AssertionError("no such line within 180 s:\n" + output());
        }

        String stdout()
        {
            outDone.join();
            return String.join("\n", stdout);
        }

        String stderr()
        {
            return String.join("\n", stderr);
        }

        String lastLine()
        {
            outDone.join();
            return stdout.get(stdout.size() - 1);
        }

        String output()
        {
            return "stdout:\n" + String.join("\n", stdout) + "\nstderr:\n" + String.join("\n", stderr);
        }
    }
}
