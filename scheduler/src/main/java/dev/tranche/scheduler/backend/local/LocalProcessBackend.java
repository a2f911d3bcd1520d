package dev.tranche.scheduler.backend.local;

import dev.tranche.scheduler.backend.ExecutionBackend;
import dev.tranche.scheduler.backend.GangStatus;
import dev.tranche.scheduler.backend.LaunchRequest;
import dev.tranche.scheduler.backend.ReplicaLaunch;
import dev.tranche.scheduler.backend.RunAttempt;
import dev.tranche.scheduler.backend.SchedulerTrust;
import dev.tranche.scheduler.backend.WorkerLogs;
import dev.tranche.scheduler.process.ProcessTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Workers as child processes of this machine, one per replica, with their output in
 * {@code <home>/runs/<experiment>/rank-N.log} and their checkpoints beside it, both kept over all
 * the experiment's run attempts. What belongs to one attempt (its spec, its gang's size and nodes,
 * each rank's pid, start and exit files) is in {@code runs/<experiment>/attempt-N/}; attempt 0, a
 * placement made before attempts were counted, kept them in the experiment's directory itself.
 * Each replica runs in a session of its own (setsid),
 * led by a small supervising shell whose pid is written to {@code rank-N.pid}: the session is the
 * replica, every process the worker starts included, and it stays the replica when the shell is
 * killed and its processes are re-parented. A replica is alive while any process of its session is,
 * it is stopped as a whole (SIGTERM, then SIGKILL to every member after the grace period), and its
 * exit code is written beside its pid by the shell (or, if the shell is gone, by the worker itself).
 * So a restarted scheduler re-adopts the replicas that still run and learns how the others ended:
 * no duplicates, no orphans. Linux: sessions are read from /proc.
 */
public final class LocalProcessBackend
        implements ExecutionBackend, WorkerLogs
{
    private static final Logger log = LoggerFactory.getLogger(LocalProcessBackend.class);
    /** At most this much of a log's end is read for one tail: half gRPC's default 4 MiB message, so the answer fits one. */
    static final int MAX_TAIL_BYTES = 2 * 1024 * 1024;
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

    private static final String LOCAL_HOST = "127.0.0.1";
    /** The directory of attempt N of an experiment is {@code attempt-N} in the experiment's. */
    private static final String ATTEMPT_DIRECTORY = "attempt-";
    /** The supervising shell's name ($0) names its rank, so that its rank is known from its command line alone. */
    private static final String SHELL_NAME = "tranche-worker-rank-";
    private static final java.util.regex.Pattern SHELL_RANK = java.util.regex.Pattern.compile(SHELL_NAME + "(\\d+)");

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
        Path experiment = runs.resolve(request.experimentId());
        Path directory = directory(request.run());
        try {
            Files.createDirectories(directory);
            // a relaunch (a retry, a resume after preemption) starts from a clean slate of pid and exit files
            try (Stream<Path> files = Files.list(directory)) {
                for (Path file : files.filter(path -> path.getFileName().toString().matches("rank-\\d+\\.(pid|start|exit)")).toList()) {
                    Files.delete(file);
                }
            }
            Path spec = directory.resolve("spec.json");
            Files.writeString(spec, request.specJson(), StandardCharsets.UTF_8);
            List<String> peers = new ArrayList<>();
            request.replicas().forEach(replica -> peers.add("127.0.0.1"));
            // the gang's size first: a scheduler killed part-way through sees the ranks it never started as failed
            writeAtomically(directory.resolve("nodes"), String.join("\n", request.replicas().stream().map(ReplicaLaunch::node).toList()));
            writeAtomically(directory.resolve("replicas"), Integer.toString(request.replicas().size()));
            for (ReplicaLaunch replica : request.replicas()) {
                // a session of its own: a Ctrl-C meant for the scheduler's terminal does not reach the workers
                List<String> command = new ArrayList<>(List.of("setsid", "sh", "-c", SUPERVISOR, SHELL_NAME + replica.rank()));
                command.addAll(workerCommand);
                command.addAll(List.of("-f", spec.toString()));
                ProcessBuilder builder = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        // one log per rank over every attempt: a resumed run's output follows the previous one's
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(experiment.resolve("rank-" + replica.rank() + ".log").toFile()));
                Map<String, String> env = builder.environment();
                env.put("TRANCHE_EXPERIMENT_ID", request.experimentId());
                env.put("TRANCHE_RANK", Integer.toString(replica.rank()));
                env.put("TRANCHE_WORLD_SIZE", Integer.toString(request.replicas().size()));
                env.put("TRANCHE_MASTER_ADDRESS", LOCAL_HOST + ":" + request.ports().sparkMaster());
                env.putAll(request.ports().environment());
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
                env.put("TRANCHE_CHECKPOINT_DIR", experiment.resolve("checkpoints").toString());
                env.put("TRANCHE_NODE", replica.node());
                env.put("TRANCHE_EXIT_FILE", directory.resolve("rank-" + replica.rank() + ".exit").toString());
                Process process = builder.start();
                writeAtomically(directory.resolve("rank-" + replica.rank() + ".pid"), Long.toString(process.pid()));
                // with the pid: which process that pid was, should the kernel give it to another one later
                ProcessTable.entry(process.pid()).ifPresent(leader -> writeAtomically(directory.resolve("rank-" + replica.rank() + ".start"),
                        Long.toString(leader.startTicks())));
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot start the workers of " + request.run() + " in " + directory, e);
        }
    }

    /** Where the files of one attempt are (see the class comment). */
    private Path directory(RunAttempt run)
    {
        Path experiment = runs.resolve(run.experimentId());
        return run.attempt() == 0 ? experiment : experiment.resolve(ATTEMPT_DIRECTORY + run.attempt());
    }

    /** Every node this backend simulates is this machine. */
    @Override
    public String portHost(String node)
    {
        return LOCAL_HOST;
    }

    /** Free when it can be bound on loopback for TCP and for UDP (gradient sharing) right now. */
    @Override
    public boolean portFree(String host, int port)
    {
        try (java.net.ServerSocket tcp = new java.net.ServerSocket()) {
            tcp.bind(new java.net.InetSocketAddress(LOCAL_HOST, port));
        }
        catch (IOException e) {
            return false;
        }
        try (java.net.DatagramSocket udp = new java.net.DatagramSocket(new java.net.InetSocketAddress(LOCAL_HOST, port))) {
            return true;
        }
        catch (IOException e) {
            return false;
        }
    }

    @Override
    public void stop(RunAttempt run, Duration grace)
    {
        // the run is over for the scheduler at once (status: GONE), even while its workers still checkpoint
        try {
            Files.deleteIfExists(directory(run).resolve("replicas"));
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot mark the workers of " + run + " stopped", e);
        }
        Set<Long> sessions = sessions(run, ProcessTable.read());
        if (sessions.isEmpty()) {
            return;
        }
        terminate(sessions);
        // a stop with no grace (the run ended, or its device is lost) kills what is left as intended: nothing to warn about
        CompletableFuture.runAsync(() -> killAfter(run.toString(), sessions, System.nanoTime() + grace.toNanos(), !grace.isZero()));
    }

    /** Stops every worker and waits for them: SIGTERM, then a kill of what is left after {@code grace}. */
    public void stopAllAndWait(Duration grace)
    {
        Set<Long> sessions = new HashSet<>();
        ProcessTable table = ProcessTable.read();
        for (RunAttempt run : workers().keySet()) {
            sessions.addAll(sessions(run, table));
            stop(run, grace);
        }
        killAfter("every experiment", sessions, System.nanoTime() + grace.toNanos(), !grace.isZero());
    }

    /**
     * SIGTERM to the top of each replica: the supervising shell, which passes it to the worker, or,
     * where the shell is gone, the processes it left (re-parented out of the session). The worker
     * checkpoints and ends its own children; they are not signalled behind its back.
     */
    private static void terminate(Set<Long> sessions)
    {
        ProcessTable table = ProcessTable.read();
        for (long session : sessions) {
            List<ProcessTable.Entry> members = table.session(session);
            Set<Long> pids = new HashSet<>();
            members.forEach(member -> pids.add(member.pid()));
            members.stream()
                    .filter(member -> member.pid() == session || !pids.contains(member.parent()))
                    .forEach(member -> ProcessHandle.of(member.pid()).ifPresent(ProcessHandle::destroy));
        }
    }

    /** Waits until the sessions are empty or the deadline passes, then kills every process left in them. */
    private static void killAfter(String what, Set<Long> sessions, long deadline, boolean warn)
    {
        while (System.nanoTime() < deadline) {
            if (members(sessions, ProcessTable.read()).isEmpty()) {
                return;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(200, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        // a process forked meanwhile joins the session too: read again until none is left
        for (int round = 0; round < 10; round++) {
            List<ProcessTable.Entry> left = members(sessions, ProcessTable.read());
            if (left.isEmpty()) {
                return;
            }
            if (round == 0 && warn) {
                log.warn("{} worker processes of {} still running after the grace period; killing them", left.size(), what);
            }
            else if (round == 0) {
                log.debug("killing the {} worker processes of {} still running", left.size(), what);
            }
            left.forEach(member -> ProcessHandle.of(member.pid()).ifPresent(ProcessHandle::destroyForcibly));
            try {
                Thread.sleep(50);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static List<ProcessTable.Entry> members(Set<Long> sessions, ProcessTable table)
    {
        List<ProcessTable.Entry> members = new ArrayList<>();
        sessions.forEach(session -> members.addAll(table.session(session)));
        return members;
    }

    @Override
    public GangStatus status(RunAttempt run)
    {
        String experimentId = run.experimentId();
        Path directory = directory(run);
        int replicas = readInt(directory.resolve("replicas")).orElse(0);
        if (replicas == 0) {
            return new GangStatus(experimentId, GangStatus.Phase.GONE, "no workers were started");
        }
        int running = 0;
        int succeeded = 0;
        boolean rankZeroEnded = false;
        int endedBeforeRankZero = -1;
        // read the process table at most once, and only if a rank has no exit code yet
        ProcessTable table = null;
        Map<String, List<Shell>> shells = null;
        for (int rank = 0; rank < replicas; rank++) {
            Optional<Integer> exit = readInt(directory.resolve("rank-" + rank + ".exit"));
            if (exit.isPresent()) {
                if (exit.get() != 0) {
                    return new GangStatus(experimentId, GangStatus.Phase.FAILED, "worker rank " + rank + " failed: exit code " + exit.get()
                            + lastLine(runs.resolve(experimentId), rank));
                }
                succeeded++;
                rankZeroEnded |= rank == 0;
                if (rank > 0 && !rankZeroEnded && endedBeforeRankZero < 0) {
                    endedBeforeRankZero = rank;
                }
                continue;
            }
            if (table == null) {
                table = ProcessTable.read();
                shells = shellsBySpec(table);
            }
            // its session has a live process: running, even if its supervising shell was killed (adopted, not duplicated)
            OptionalLong session = session(directory, rank, table);
            if (session.isPresent() && !table.session(session.getAsLong()).isEmpty()) {
                running++;
            }
            else if (!unrecordedSessions(directory, shells, rank).isEmpty()) {
                // a worker started just before its scheduler was killed has no pid file, but its shell is found by its command line
                // (this rank's own shell: another rank's live shell says nothing of this one, which may never have started)
                running++;
            }
            else {
                // neither running nor an exit code: it did not end by itself but was killed from outside, its supervising shell
                // included (by hand, or with the previous scheduler): lost, not failed; the others would wait for it for ever
                return GangStatus.workerLost(experimentId, rank, replicas, "", "its processes ended without an exit code: killed, or with the scheduler");
            }
        }
        if (succeeded == replicas) {
            return GangStatus.succeeded(experimentId, replicas);
        }
        if (endedBeforeRankZero > 0) {
            return GangStatus.endedBeforeRankZero(experimentId, endedBeforeRankZero, replicas, "");
        }
        return GangStatus.running(experimentId, running, replicas);
    }

    @Override
    public Map<RunAttempt, Set<String>> workers()
    {
        Map<RunAttempt, Set<String>> workers = new TreeMap<>();
        if (!Files.isDirectory(runs)) {
            return workers;
        }
        ProcessTable table = ProcessTable.read();
        Map<String, List<Shell>> shellsBySpec = shellsBySpec(table);
        try (Stream<Path> experiments = Files.list(runs)) {
            for (Path experiment : experiments.filter(Files::isDirectory).toList()) {
                String id = experiment.getFileName().toString();
                for (RunAttempt run : attempts(id, experiment)) {
                    Path directory = directory(run);
                    if (!members(sessions(run, table, shellsBySpec), table).isEmpty()) {
                        workers.put(run, new TreeSet<>(Files.exists(directory.resolve("nodes")) ? Files.readAllLines(directory.resolve("nodes")) : List.of()));
                    }
                }
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot list the workers in " + runs, e);
        }
        return workers;
    }

    /** The attempts an experiment's directory has files of: 0 (in the directory itself) and each {@code attempt-N}. */
    private static List<RunAttempt> attempts(String experimentId, Path experiment)
            throws IOException
    {
        List<RunAttempt> attempts = new ArrayList<>(List.of(new RunAttempt(experimentId, 0)));
        try (Stream<Path> entries = Files.list(experiment)) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (name.matches(ATTEMPT_DIRECTORY + "\\d{1,9}") && Files.isDirectory(entry)) {
                    attempts.add(new RunAttempt(experimentId, Integer.parseInt(name.substring(ATTEMPT_DIRECTORY.length()))));
                }
            }
        }
        return attempts;
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
            return tailLines(file, lines);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * The last {@code lines} lines of a log, read back from its end only as far as they start (a log
     * grows for the whole run), and at most {@link #MAX_TAIL_BYTES} of it: a first line cut there is
     * left out, unless it is the only one. A worker writes bytes: what is not UTF-8 (or a character a
     * live read cuts in two) reads as U+FFFD rather than failing the read.
     */
    static List<String> tailLines(Path file, int lines)
            throws IOException
    {
        if (lines < 1) {
            return List.of();
        }
        try (SeekableByteChannel channel = Files.newByteChannel(file, StandardOpenOption.READ)) {
            long end = channel.size();
            long start = end;
            int breaks = 0;
            boolean whole = false;
            byte[] block = new byte[64 * 1024];
            // back a block at a time, counting line breaks (not the log's last byte: it ends the last line)
            scan:
            while (start > 0 && end - start < MAX_TAIL_BYTES) {
                int length = (int) Math.min(block.length, Math.min(start, MAX_TAIL_BYTES - (end - start)));
                long from = start - length;
                readFully(channel, from, ByteBuffer.wrap(block, 0, length));
                for (int i = length - 1; i >= 0; i--) {
                    if (block[i] == '\n' && from + i != end - 1 && ++breaks == lines) {
                        start = from + i + 1;
                        whole = true;
                        break scan;
                    }
                }
                start = from;
            }
            byte[] tail = new byte[(int) (end - start)];
            int got = readFully(channel, start, ByteBuffer.wrap(tail));
            // new String replaces malformed input; lines() splits as readAllLines did (\n, \r, \r\n)
            List<String> read = new String(tail, 0, got, StandardCharsets.UTF_8).lines().toList();
            if (!whole && start > 0 && read.size() > 1) {
                read = read.subList(1, read.size());
            }
            return read.subList(Math.max(0, read.size() - lines), read.size());
        }
    }

    /** Reads from {@code position} until {@code into} is full or the file ends; returns how many bytes were read. */
    private static int readFully(SeekableByteChannel channel, long position, ByteBuffer into)
            throws IOException
    {
        channel.position(position);
        int start = into.position();
        while (into.hasRemaining()) {
            if (channel.read(into) < 0) {
                // a log only grows (attempts append to it), but should one shrink under the read, what was read is what there is
                break;
            }
        }
        return into.position() - start;
    }

    /**
     * The sessions of the attempt's replicas, live or not: from the pid files, and, for a replica
     * started in the instant before a scheduler was killed (before its pid was written), from its
     * shell's command line, which names the attempt's spec file. Without the second, a restarted
     * scheduler could start a duplicate. (Only the shell is looked up so: the JVM's command line is
     * longer than the part of it the JDK reads.)
     */
    private Set<Long> sessions(RunAttempt run, ProcessTable table)
    {
        return sessions(run, table, shellsBySpec(table));
    }

    private Set<Long> sessions(RunAttempt run, ProcessTable table, Map<String, List<Shell>> shellsBySpec)
    {
        String experimentId = run.experimentId();
        Path directory = directory(run);
        Set<Long> sessions = new HashSet<>();
        shellsBySpec.getOrDefault(directory.resolve("spec.json").toString(), List.of()).forEach(shell -> sessions.add(shell.pid()));
        if (!Files.isDirectory(directory)) {
            return sessions;
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path pid : files.filter(path -> path.getFileName().toString().matches("rank-\\d+\\.pid")).toList()) {
                int rank = Integer.parseInt(pid.getFileName().toString().replaceAll("\\D", ""));
                session(directory, rank, table).ifPresent(sessions::add);
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot list the workers of " + run, e);
        }
        return sessions;
    }

    /**
     * The session of rank {@code rank}: the pid of the shell that leads it. Empty if the pid was
     * given to a process of some other session since (the pid of a session with live members is not
     * reused, so a session found with members is this replica's).
     */
    private static OptionalLong session(Path directory, int rank, ProcessTable table)
    {
        Optional<Integer> pid = readInt(directory.resolve("rank-" + rank + ".pid"));
        if (pid.isEmpty()) {
            return OptionalLong.empty();
        }
        Optional<Long> started = readLong(directory.resolve("rank-" + rank + ".start"));
        Optional<ProcessTable.Entry> holder = table.entries().stream().filter(entry -> entry.pid() == pid.get()).findFirst();
        if (holder.isPresent() && started.isPresent() && holder.get().startTicks() != started.get()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(pid.get());
    }

    /**
     * Sessions of rank {@code rank} of this attempt led by a live shell found by its command line (it
     * names the attempt's spec file and, since attempts were counted, its rank; a shell that does not
     * name its rank may be any rank's).
     */
    private static List<Long> unrecordedSessions(Path directory, Map<String, List<Shell>> shellsBySpec, int rank)
    {
        return shellsBySpec.getOrDefault(directory.resolve("spec.json").toString(), List.of()).stream()
                .filter(shell -> shell.rank() == rank || shell.rank() < 0)
                .map(Shell::pid)
                .toList();
    }

    /** A live shell that leads a replica's session, and the rank its command line names (-1: none). */
    private record Shell(long pid, int rank) {}

    /** Live session-leading shells of this backend, by the attempt's spec file their command line names: one pass over the process table. */
    private Map<String, List<Shell>> shellsBySpec(ProcessTable table)
    {
        String prefix = runs.toString() + java.io.File.separator;
        Map<String, List<Shell>> shells = new HashMap<>();
        for (ProcessTable.Entry entry : table.entries()) {
            if (entry.session() != entry.pid()) {
                continue;
            }
            ProcessHandle.of(entry.pid()).flatMap(process -> process.info().arguments()).ifPresent(arguments -> {
                int rank = -1;
                for (String argument : arguments) {
                    java.util.regex.Matcher named = SHELL_RANK.matcher(argument);
                    if (rank < 0 && named.matches()) {
                        rank = Integer.parseInt(named.group(1));
                    }
                }
                for (String argument : arguments) {
                    if (argument.startsWith(prefix) && argument.endsWith("spec.json")) {
                        shells.computeIfAbsent(argument, ignored -> new ArrayList<>()).add(new Shell(entry.pid(), rank));
                    }
                }
            });
        }
        return shells;
    }

    private static String lastLine(Path directory, int rank)
    {
        try {
            Path log = directory.resolve("rank-" + rank + ".log");
            if (!Files.exists(log)) {
                return "";
            }
            // the end of the log is enough: its last line that is not blank
            List<String> lines = tailLines(log, 100).stream().filter(line -> !line.isBlank()).toList();
            return lines.isEmpty() ? "" : ": " + lines.get(lines.size() - 1).strip();
        }
        catch (IOException e) {
            return "";
        }
    }

    private static Optional<Long> readLong(Path file)
    {
        try {
            return Files.exists(file) ? Optional.of(Long.parseLong(Files.readString(file).strip())) : Optional.empty();
        }
        catch (IOException | NumberFormatException e) {
            return Optional.empty();
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
