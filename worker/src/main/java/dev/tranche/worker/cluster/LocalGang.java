package dev.tranche.worker.cluster;

import dev.tranche.worker.env.WorkerEnvironment;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * {@code tranche train --replicas N} on one machine: ranks 1..N-1 as child processes
 * ({@code tranche worker}) with the environment a backend would give them, each logging to
 * {@code rank-N.log}. A rank that ends while the gang is open took its executor with it, and the
 * driver would wait for it for ever: the first such end is reported once, and remembered.
 */
public final class LocalGang
        implements AutoCloseable
{
    private final List<Process> ranks;
    private final Path logs;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicReference<String> lost = new AtomicReference<>();

    private LocalGang(List<Process> ranks, Path logs)
    {
        this.ranks = List.copyOf(ranks);
        this.logs = logs;
    }

    /**
     * Starts ranks 1..replicas-1, joining the master at {@code master}; {@code onLoss} is told, in
     * words, of the first rank that ends before {@link #close()}.
     */
    public static LocalGang start(int replicas, Gang.Address master, SparkHome home, WorkerEnvironment parent, int cores, Path logs,
            Consumer<String> onLoss)
            throws IOException
    {
        requireNonNull(onLoss, "onLoss is null");
        Files.createDirectories(logs);
        List<Process> ranks = new ArrayList<>();
        try {
            for (int rank = 1; rank < replicas; rank++) {
                List<String> command = new ArrayList<>();
                command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
                command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.tranche.cli.Tranche", "worker", "--workers", Integer.toString(cores)));
                ProcessBuilder builder = new ProcessBuilder(command);
                Map<String, String> env = builder.environment();
                env.put(WorkerEnvironment.RANK, Integer.toString(rank));
                env.put(WorkerEnvironment.WORLD_SIZE, Integer.toString(replicas));
                env.put(WorkerEnvironment.MASTER_ADDRESS, master.host() + ":" + master.port());
                parent.gradientPort().ifPresent(port -> env.put(WorkerEnvironment.GRADIENT_PORT, Integer.toString(port)));
                parent.experimentId().ifPresent(id -> env.put(WorkerEnvironment.EXPERIMENT_ID, id));
                env.put("SPARK_HOME", home.home().toString());
                env.put("SPARK_SCALA_VERSION", "2.12");
                env.put("CUDA_VISIBLE_DEVICES", parent.cudaVisibleDevices());
                builder.redirectErrorStream(true).redirectOutput(logs.resolve("rank-" + rank + ".log").toFile());
                ranks.add(builder.start());
            }
        }
        catch (IOException | RuntimeException e) {
            ranks.forEach(Process::destroyForcibly);
            throw e;
        }
        LocalGang gang = new LocalGang(ranks, logs);
        for (int i = 0; i < ranks.size(); i++) {
            int rank = i + 1;
            ranks.get(i).onExit().thenAccept(ended -> {
                String why = "rank " + rank + " of " + replicas + " exited (exit code " + ended.exitValue() + ") while training ran; its log is "
                        + logs.resolve("rank-" + rank + ".log");
                if (!gang.closing.get() && gang.lost.compareAndSet(null, why)) {
                    onLoss.accept(why);
                }
            });
        }
        return gang;
    }

    /** Where the ranks write their logs. */
    public Path logs()
    {
        return logs;
    }

    /** The first rank that ended before the gang was closed, in words. */
    public Optional<String> lost()
    {
        return Optional.ofNullable(lost.get());
    }

    /** Stops every rank (SIGTERM) and waits a while for them to end, so that they can remove their own scratch. */
    @Override
    public void close()
    {
        closing.set(true);
        for (Process rank : ranks) {
            rank.toHandle().destroy();
        }
        for (Process rank : ranks) {
            try {
                if (!rank.waitFor(20, TimeUnit.SECONDS)) {
                    rank.destroyForcibly();
                }
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                rank.destroyForcibly();
            }
        }
    }
}
