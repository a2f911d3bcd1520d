package dev.tranche.scheduler.backend.local;

import dev.tranche.scheduler.backend.ExecutionBackend;
import dev.tranche.scheduler.backend.GangStatus;
import dev.tranche.scheduler.backend.LaunchRequest;
import dev.tranche.scheduler.backend.ReplicaLaunch;
import dev.tranche.scheduler.backend.SchedulerTrust;
import dev.tranche.scheduler.backend.WorkerLogs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Workers as child processes of this machine, one per replica, with their output in
 * {@code <home>/runs/<experiment>/rank-N.log}. Each replica's pid and, once it ends, its exit code are
 * written next to the log, so a restarted scheduler re-adopts workers that are still running and
 * learns how the others ended: no duplicates, no orphans.
 */
public final class LocalProcessBackend
        implements ExecutionBackend, WorkerLogs
{
    private static final Logger log = LoggerFactory.getLogger(LocalProcessBackend.class);
    private static final int SPARK_MASTER_BASE_PORT = 17077;
    // A small shell keeps each worker's exit code on disk, so it is known even if this scheduler is
    // gone when the worker ends; it passes SIGTERM on, so the worker can checkpoint.
    private static final String SUPERVISOR = """
            "$@" & child=$!
            trap 'kill -TERM "$child" 2>/dev/null' TERM
            trap '' INT
            wait "$child"; code=$?
            while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
            echo "$code" > "$TRANCHE_EXIT_FILE.tmp" && mv "$TRANCHE_EXIT_FILE.tmp" "$TRANCHE_EXIT_FILE"
            exit "$code"
            """;

    private final Path runs;
    private final List<String> workerCommand;
    private final SchedulerTrust schedulerTrust;

    /** {@code workerCommand} starts one worker, e.g. {@code [/opt/tranche/tranche, worker]}; "-f SPEC" is appended. */
    public LocalProcessBackend(Path home, List<String> workerCommand)
    {
        this(home, workerCommand, SchedulerTrust.PLAINTEXT);
    }

    /** With {@code schedulerTrust}: how the workers reach a scheduler that serves TLS. */
    public LocalProcessBackend(Path home, List<String> workerCommand, SchedulerTrust schedulerTrust)
    {
        this.runs = requireNonNull(home, "home is null").resolve("runs");
        this.workerCommand = List.copyOf(requireNonNull(workerCommand, "workerCommand is null"));
        this.schedulerTrust = requireNonNull(schedulerTrust, "schedulerTrust is null");
        if (workerCommand.isEmpty()) {
            throw new IllegalArgumentException("the worker command is empty");
        }
    }

    @Override
    public synchronized void launch(LaunchRequest request)
    {
        Path directory = runs.resolve(request.experimentId());
        try {
            Files.createDirectories(directory);
            // a relaunch (a retry, a resume after preemption) starts from a clean slate of pid and exit files
            try (Stream<Path> files = Files.list(directory)) {
                for (Path file : files.filter(path -> path.getFileName().toString().matches("rank-\\d+\\.(pid|exit)")).toList()) {
                    Files.delete(file);
                }
            }
            Path spec = directory.resolve("spec.json");
            Files.writeString(spec, request.specJson(), StandardCharsets.UTF_8);
            int masterPort = SPARK_MASTER_BASE_PORT + Math.floorMod(request.experimentId().hashCode(), 1000);
            List<String> peers = new ArrayList<>();
            request.replicas().forEach(replica -> peers.add("127.0.0.1"));
            // the gang's size first: a scheduler killed part-way through sees the ranks it never started as failed
            writeAtomically(directory.resolve("nodes"), String.join("\n", request.replicas().stream().map(ReplicaLaunch::node).toList()));
            writeAtomically(directory.resolve("replicas"), Integer.toString(request.replicas().size()));
            for (ReplicaLaunch replica : request.replicas()) {
                // a session of its own: a Ctrl-C meant for the scheduler's terminal does not reach the workers
                List<String> command = new ArrayList<>(List.of("setsid", "sh", "-c", SUPERVISOR, "tranche-worker"));
                command.addAll(workerCommand);
                command.addAll(List.of("-f", spec.toString()));
                ProcessBuilder builder = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(directory.resolve("rank-" + replica.rank() + ".log").toFile()));
                Map<String, String> env = builder.environment();
                env.put("TRANCHE_EXPERIMENT_ID", request.experimentId());
                env.put("TRANCHE_RANK", Integer.toString(replica.rank()));
                env.put("TRANCHE_WORLD_SIZE", Integer.toString(request.replicas().size()));
                env.put("TRANCHE_MASTER_ADDRESS", "127.0.0.1:" + masterPort);
                env.put("TRANCHE_PEERS", String.join(",", peers));
                env.put("TRANCHE_GPU_IDS", replica.gpuIds());
                env.put("TRANCHE_GPU_FRACTION", Double.toString(replica.gpuFraction()));
                if (replica.gpuMemoryMib() > 0 && !replica.gpuMilli().isEmpty()) {
                    long share = replica.wholeGpus() ? replica.gpuMemoryMib() : replica.gpuMemoryMib() * replica.gpuMilli().values().iterator().next() / 1000;
                    env.put("TRANCHE_GPU_MEMORY_MIB", Long.toString(share));
                }
                env.put("TRANCHE_SCHEDULER_ADDRESS", request.schedulerAddress());
                // whatever this scheduler's own environment says about TLS is not the workers' business
                env.remove(SchedulerTrust.TLS_VARIABLE);
                env.remove(SchedulerTrust.CA_VARIABLE);
                env.putAll(schedulerTrust.environment());
                env.put("TRANCHE_CREDENTIAL", request.credential());
                env.put("TRANCHE_CHECKPOINT_DIR", directory.resolve("checkpoints").toString());
                env.put("TRANCHE_NODE", replica.node());
                env.put("TRANCHE_EXIT_FILE", directory.resolve("rank-" + replica.rank() + ".exit").toString());
                Process process = builder.start();
                writeAtomically(directory.resolve("rank-" + replica.rank() + ".pid"), Long.toString(process.pid()));
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot start the workers of " + request.experimentId() + " in " + directory, e);
        }
    }

    @Override
    public void stop(String experimentId, Duration grace)
    {
        // the run is over for the scheduler at once (status: GONE), even while its workers still checkpoint
        try {
            Files.deleteIfExists(runs.resolve(experimentId).resolve("replicas"));
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot mark the workers of " + experimentId + " stopped", e);
        }
        List<ProcessHandle> alive = alive(experimentId);
        if (alive.isEmpty()) {
            return;
        }
        // SIGTERM: the worker checkpoints and exits; whatever is left after the grace period is killed
        alive.forEach(ProcessHandle::destroy);
        CompletableFuture.runAsync(() -> {
            for (ProcessHandle process : alive) {
                try {
                    process.onExit().get(Math.max(1, grace.toMillis()), TimeUnit.MILLISECONDS);
                }
                catch (Exception e) {
                    log.warn("worker {} of {} did not stop within {}; killing it", process.pid(), experimentId, grace);
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                }
            }
        });
    }

    /** Stops every worker and waits for them: SIGTERM, then a kill of what is left after {@code grace}. */
    public void stopAllAndWait(Duration grace)
    {
        List<ProcessHandle> alive = new ArrayList<>();
        for (String id : workers().keySet()) {
            alive.addAll(alive(id));
            stop(id, grace);
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle process : alive) {
            try {
                process.onExit().get(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())), TimeUnit.MILLISECONDS);
            }
            catch (Exception e) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
    }

    @Override
    public GangStatus status(String experimentId)
    {
        Path directory = runs.resolve(experimentId);
        int replicas = readInt(directory.resolve("replicas")).orElse(0);
        if (replicas == 0) {
            return new GangStatus(experimentId, GangStatus.Phase.GONE, "no workers were started");
        }
        int running = 0;
        int succeeded = 0;
        // read the process table at most once, and only if a rank is unaccounted for
        List<ProcessHandle> unrecorded = null;
        for (int rank = 0; rank < replicas; rank++) {
            Optional<Integer> exit = readInt(directory.resolve("rank-" + rank + ".exit"));
            if (exit.isPresent()) {
                if (exit.get() != 0) {
                    return new GangStatus(experimentId, GangStatus.Phase.FAILED, "worker rank " + rank + " failed: exit code " + exit.get() + lastLine(directory, rank));
                }
                succeeded++;
            }
            else if (process(directory, rank).isPresent()) {
                running++;
            }
            else {
                if (unrecorded == null) {
                    unrecorded = unrecorded(directory);
                }
                if (unrecorded.isEmpty()) {
                    // neither running nor an exit code: it died with the previous scheduler, unseen
                    return new GangStatus(experimentId, GangStatus.Phase.FAILED, "worker rank " + rank + " ended without an exit code (killed with its scheduler?)");
                }
                // a worker started just before its scheduler was killed has no pid file, but is found by its command line
                running++;
            }
        }
        if (succeeded == replicas) {
            return GangStatus.succeeded(experimentId, replicas);
        }
        return GangStatus.running(experimentId, running, replicas);
    }

    @Override
    public Map<String, Set<String>> workers()
    {
        Map<String, Set<String>> workers = new TreeMap<>();
        if (!Files.isDirectory(runs)) {
            return workers;
        }
        Map<String, List<ProcessHandle>> bySpecFile = bySpecFile();
        try (Stream<Path> experiments = Files.list(runs)) {
            for (Path directory : experiments.toList()) {
                String id = directory.getFileName().toString();
                if (!alive(id, bySpecFile).isEmpty()) {
                    workers.put(id, new TreeSet<>(Files.exists(directory.resolve("nodes")) ? Files.readAllLines(directory.resolve("nodes")) : List.of()));
                }
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot list the workers in " + runs, e);
        }
        return workers;
    }

    @Override
    public List<String> tail(String experimentId, int rank, int lines)
    {
        return logTail(experimentId, rank, lines);
    }

    /** The last lines a replica printed, for `tranche logs` and the dashboard. */
    public List<String> logTail(String experimentId, int rank, int lines)
    {
        Path file = runs.resolve(experimentId).resolve("rank-" + rank + ".log");
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return all.subList(Math.max(0, all.size() - lines), all.size());
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * Every live worker of the experiment, stopped or not: from its pid files, and by its command line
     * (which names the experiment's spec file) for one started in the instant before a scheduler was
     * killed, before its pid was written. Without the second, a restarted scheduler could start a
     * duplicate.
     */
    private List<ProcessHandle> alive(String experimentId)
    {
        return alive(experimentId, bySpecFile());
    }

    private List<ProcessHandle> alive(String experimentId, Map<String, List<ProcessHandle>> bySpecFile)
    {
        Path directory = runs.resolve(experimentId);
        List<ProcessHandle> alive = new ArrayList<>(bySpecFile.getOrDefault(directory.resolve("spec.json").toString(), List.of()));
        if (!Files.isDirectory(directory)) {
            return alive;
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path pid : files.filter(path -> path.getFileName().toString().matches("rank-\\d+\\.pid")).toList()) {
                readInt(pid).map(Integer::longValue).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive).ifPresent(alive::add);
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot list the workers of " + experimentId, e);
        }
        return alive.stream().distinct().toList();
    }

    /** Live processes whose command line names this run's spec file. */
    private List<ProcessHandle> unrecorded(Path directory)
    {
        return bySpecFile().getOrDefault(directory.resolve("spec.json").toString(), List.of());
    }

    /** Live processes by the run spec file their command line names: one pass over the process table. */
    private Map<String, List<ProcessHandle>> bySpecFile()
    {
        String prefix = runs.toString() + java.io.File.separator;
        Map<String, List<ProcessHandle>> bySpec = new HashMap<>();
        ProcessHandle.allProcesses().forEach(process -> process.info().arguments().ifPresent(arguments -> {
            for (String argument : arguments) {
                if (argument.startsWith(prefix) && argument.endsWith("spec.json")) {
                    bySpec.computeIfAbsent(argument, ignored -> new ArrayList<>()).add(process);
                }
            }
        }));
        return bySpec;
    }

    private static Optional<ProcessHandle> process(Path directory, int rank)
    {
        return readInt(directory.resolve("rank-" + rank + ".pid")).map(Integer::longValue)
                .flatMap(ProcessHandle::of)
                .filter(ProcessHandle::isAlive);
    }

    private static String lastLine(Path directory, int rank)
    {
        try {
            Path log = directory.resolve("rank-" + rank + ".log");
            if (!Files.exists(log)) {
                return "";
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(line -> !line.isBlank()).toList();
            return lines.isEmpty() ? "" : ": " + lines.get(lines.size() - 1).strip();
        }
        catch (IOException e) {
            return "";
        }
    }

    private static Optional<Integer> readInt(Path file)
    {
        try {
            return Files.exists(file) ? Optional.of(Integer.parseInt(Files.readString(file).strip())) : Optional.empty();
        }
        catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static void writeAtomically(Path file, String content)
    {
        try {
            Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(temporary, content, StandardCharsets.UTF_8);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
