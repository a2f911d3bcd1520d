package dev.tranche.scheduler.backend.local;

import dev.tranche.scheduler.backend.GangStatus;
import dev.tranche.scheduler.backend.LaunchRequest;
import dev.tranche.scheduler.backend.ReplicaLaunch;
import dev.tranche.scheduler.backend.RunAttempt;
import dev.tranche.scheduler.backend.SchedulerTrust;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Child-process workers, with a scripted worker standing in for `tranche worker` so that the tests
 * control how long it runs and how it ends (the real worker is exercised by the worker module).
 */
final class LocalProcessBackendTest
{
    @TempDir
    Path home;

    private Path worker;

    @BeforeEach
    void scriptedWorker()
            throws IOException
    {
        // prints its contract, then behaves as $WORKER_MODE in its spec directory says: run, fail or finish
        worker = home.resolve("worker.sh");
        Files.writeString(worker, """
                #!/bin/sh
                echo "rank $TRANCHE_RANK of $TRANCHE_WORLD_SIZE on $TRANCHE_NODE gpus $TRANCHE_GPU_IDS fraction $TRANCHE_GPU_FRACTION"
                echo "scheduler $TRANCHE_SCHEDULER_ADDRESS tls ${TRANCHE_SCHEDULER_TLS:-unset} ca ${TRANCHE_SCHEDULER_CA:-unset}"
                echo "master $TRANCHE_MASTER_ADDRESS driver $TRANCHE_DRIVER_PORT block manager $TRANCHE_BLOCK_MANAGER_PORT gradient $TRANCHE_GRADIENT_PORT"
                trap 'echo "checkpointed on SIGTERM"; exit 143' TERM
                mode=$(cat "$(dirname "$2")/../mode" 2>/dev/null || echo run)
                case "$mode" in
                  finish) echo done; exit 0 ;;
                  fail) echo "CUDA out of memory" ; exit 3 ;;
                  rank1-ends) if [ "$TRANCHE_RANK" = 1 ]; then echo "master is gone: this replica is done"; exit 0; fi ;;
                esac
                while true; do sleep 0.1; done
                """);
        Files.setPosixFilePermissions(worker, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void runsOneProcessPerReplicaWithTheContractAndStopsThemWithSigterm()
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        backend.launch(gang("exp-running0001"));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.status(run("exp-running0001")).phase() == GangStatus.Phase.RUNNING);
        assertThat(backend.workers()).containsOnlyKeys(run("exp-running0001")).containsEntry(run("exp-running0001"), java.util.Set.of("local-1", "local-2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.logTail("exp-running0001", 1, 5).contains("rank 1 of 2 on local-2 gpus 0,1 fraction 1.0"));
        assertThat(backend.logTail("exp-running0001", 0, 5)).contains("rank 0 of 2 on local-1 gpus 3 fraction 0.5")
                .contains("scheduler 127.0.0.1:50051 tls unset ca unset")
                // the gang's ports, as the scheduler allocated them
                .contains("master 127.0.0.1:17010 driver 17011 block manager 17012 gradient 17013");

        backend.stop(run("exp-running0001"), Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(15)).until(() -> backend.workers().isEmpty());
        assertThat(backend.logTail("exp-running0001", 0, 5)).contains("checkpointed on SIGTERM");
    }

    /**
     * An experiment placed again (a new attempt) while its previous attempt's workers still
     * checkpoint: each attempt's workers are its own, and stopping the old attempt leaves the new one
     * running. Both write to the experiment's one log per rank and one checkpoint folder.
     */
    @Test
    void attemptsOfOneExperimentAreApartAndStoppingTheOldOneLeavesTheNewOneRunning()
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        String id = "exp-attempts001";
        backend.launch(gang(id, 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.status(new RunAttempt(id, 1)).phase() == GangStatus.Phase.RUNNING);
        assertThat(backend.status(new RunAttempt(id, 2)).phase()).isEqualTo(GangStatus.Phase.GONE);

        backend.launch(gang(id, 2));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.status(new RunAttempt(id, 2)).phase() == GangStatus.Phase.RUNNING);
        assertThat(backend.workers()).containsOnlyKeys(new RunAttempt(id, 1), new RunAttempt(id, 2));
        assertThat(backend.status(new RunAttempt(id, 1)).phase()).isEqualTo(GangStatus.Phase.RUNNING);

        backend.stop(new RunAttempt(id, 1), Duration.ofSeconds(10));
        assertThat(backend.status(new RunAttempt(id, 1)).phase()).isEqualTo(GangStatus.Phase.GONE);
        await().atMost(Duration.ofSeconds(15)).until(() -> backend.workers().keySet().equals(java.util.Set.of(new RunAttempt(id, 2))));
        assertThat(backend.status(new RunAttempt(id, 2))).satisfies(status -> {
            assertThat(status.phase()).isEqualTo(GangStatus.Phase.RUNNING);
            assertThat(status.reason()).isEqualTo("2 of 2 workers running");
        });
        assertThat(backend.logTail(id, 0, 10)).containsOnlyOnce("checkpointed on SIGTERM");
        backend.stop(new RunAttempt(id, 2), Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(15)).until(() -> backend.workers().isEmpty());
    }

    /** Attempt 0: workers a scheduler started before attempts were counted, with their files in the experiment's own directory. */
    @Test
    void workersStartedBeforeAttemptsWereCountedAreAttemptZero()
            throws IOException
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        String id = "exp-attempt0001";
        backend.launch(gang(id, 0));
        assertThat(home.resolve("runs").resolve(id).resolve("rank-0.pid")).exists();
        backend.launch(gang(id, 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.workers().keySet().equals(java.util.Set.of(new RunAttempt(id, 0), new RunAttempt(id, 1))));

        backend.stop(new RunAttempt(id, 0), Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(15)).until(() -> backend.workers().keySet().equals(java.util.Set.of(new RunAttempt(id, 1))));
        assertThat(backend.status(new RunAttempt(id, 1)).phase()).isEqualTo(GangStatus.Phase.RUNNING);
        backend.stop(new RunAttempt(id, 1), Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(15)).until(() -> backend.workers().isEmpty());
    }

    /**
     * A scheduler killed part-way through a launch leaves a gang with one rank started and the other
     * never: the live rank's shell says nothing of the other, so the gang is not RUNNING.
     */
    @Test
    void aGangWithARankThatNeverStartedIsNotRunning()
            throws Exception
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        String id = "exp-partial001";
        backend.launch(gang(id));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.status(run(id)).phase() == GangStatus.Phase.RUNNING);
        // rank 1 as if never started: its session gone without an exit code, and no pid file
        Path directory = home.resolve("runs").resolve(id).resolve("attempt-1");
        long rank1 = Long.parseLong(Files.readString(directory.resolve("rank-1.pid")).strip());
        assertThat(new ProcessBuilder("kill", "-KILL", "--", "-" + rank1).start().waitFor()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.allProcesses().noneMatch(process -> sessionOf(process.pid()) == rank1));
        Files.delete(directory.resolve("rank-1.pid"));
        Files.deleteIfExists(directory.resolve("rank-1.start"));

        assertThat(backend.status(run(id))).satisfies(status -> {
            assertThat(status.phase()).isEqualTo(GangStatus.Phase.WORKER_LOST);
            assertThat(status.reason()).startsWith("worker 1 of 2 was lost ");
        });
        backend.stop(run(id), Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(15)).until(() -> backend.workers().isEmpty());
    }

    /** The session a process is in, from /proc (-1 if it is gone). */
    private static long sessionOf(long pid)
    {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(")") + 2).split(" ")[3]);
        }
        catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    @Test
    void everySimulatedNodeIsThisMachineAndAPortInUseIsNotFree()
            throws IOException
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        assertThat(backend.portHost("local-1")).isEqualTo(backend.portHost("local-2"));
        try (java.net.ServerSocket tcp = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                java.net.DatagramSocket udp = new java.net.DatagramSocket(new java.net.InetSocketAddress("127.0.0.1", 0))) {
            assertThat(backend.portFree("127.0.0.1", tcp.getLocalPort())).isFalse();
            assertThat(backend.portFree("127.0.0.1", udp.getLocalPort())).isFalse();
        }
    }

    @Test
    void reportsSuccessAndFailureWithTheWorkersLastLine()
            throws IOException
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        assertThat(backend.status(run("exp-never00001")).phase()).isEqualTo(GangStatus.Phase.GONE);
        Files.createDirectories(home.resolve("runs/exp-finished01"));
        Files.writeString(home.resolve("runs/exp-finished01/mode"), "finish");
        backend.launch(gang("exp-finished01"));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.status(run("exp-finished01")).phase() == GangStatus.Phase.SUCCEEDED);

        Files.createDirectories(home.resolve("runs/exp-failing001"));
        Files.writeString(home.resolve("runs/exp-failing001/mode"), "fail");
        backend.launch(gang("exp-failing001"));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.status(run("exp-failing001")).phase() == GangStatus.Phase.FAILED);
        assertThat(backend.status(run("exp-failing001")).reason()).startsWith("worker rank 0 failed: exit code 3: CUDA out of memory");
    }

    /**
     * A rank > 0 ends by itself only once its master (rank 0) has been gone for a while; one that ends
     * while rank 0 still runs lost its master (a partition, the master thread died), and rank 0 would
     * wait for its executor for ever: the gang is lost, not running.
     */
    @Test
    void aRankThatEndsWhileRankZeroStillRunsLeavesTheGangLost()
            throws IOException
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        String id = "exp-orphaned01";
        Files.createDirectories(home.resolve("runs").resolve(id));
        Files.writeString(home.resolve("runs").resolve(id).resolve("mode"), "rank1-ends");
        backend.launch(gang(id));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.status(run(id)).phase() == GangStatus.Phase.WORKER_LOST);
        assertThat(backend.status(run(id)).reason())
                .isEqualTo("worker 1 of 2 was lost (it exited while worker 0 still trains: it lost touch with worker 0's Spark master, "
                        + "and the training cannot finish without it)");
        backend.stop(run(id), Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(15)).until(() -> backend.workers().isEmpty());
    }

    @Test
    void aRestartedSchedulerReadoptsRunningWorkersAndSeesHowTheOthersEnded()
            throws IOException
    {
        LocalProcessBackend first = new LocalProcessBackend(home, List.of(worker.toString()));
        first.launch(gang("exp-adopted001"));
        Files.createDirectories(home.resolve("runs/exp-endedwhile"));
        Files.writeString(home.resolve("runs/exp-endedwhile/mode"), "finish");
        first.launch(gang("exp-endedwhile"));
        await().atMost(Duration.ofSeconds(10)).until(() -> first.status(run("exp-adopted001")).phase() == GangStatus.Phase.RUNNING);

        // a new backend over the same home: what a scheduler restarted after kill -9 sees
        LocalProcessBackend second = new LocalProcessBackend(home, List.of(worker.toString()));
        assertThat(second.workers()).containsOnlyKeys(run("exp-adopted001"));
        assertThat(second.status(run("exp-adopted001")).phase()).isEqualTo(GangStatus.Phase.RUNNING);
        await().atMost(Duration.ofSeconds(10)).until(() -> second.status(run("exp-endedwhile")).phase() == GangStatus.Phase.SUCCEEDED);
        second.stop(run("exp-adopted001"), Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(15)).until(() -> second.workers().isEmpty());
    }

    @Test
    void aWorkerWhosePidWasNeverWrittenIsStillFoundSoNoDuplicateStarts()
            throws IOException
    {
        LocalProcessBackend first = new LocalProcessBackend(home, List.of(worker.toString()));
        first.launch(gang("exp-unrecorded"));
        await().atMost(Duration.ofSeconds(10)).until(() -> first.status(run("exp-unrecorded")).phase() == GangStatus.Phase.RUNNING);
        // the scheduler was killed between starting the workers and writing their pid files
        Files.delete(home.resolve("runs/exp-unrecorded/attempt-1/rank-0.pid"));
        Files.delete(home.resolve("runs/exp-unrecorded/attempt-1/rank-1.pid"));

        LocalProcessBackend second = new LocalProcessBackend(home, List.of(worker.toString()));
        assertThat(second.status(run("exp-unrecorded")).phase()).isEqualTo(GangStatus.Phase.RUNNING);
        assertThat(second.workers()).containsOnlyKeys(run("exp-unrecorded"));
        second.stop(run("exp-unrecorded"), Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(15)).until(() -> second.workers().isEmpty());
        assertThat(second.logTail("exp-unrecorded", 0, 5)).contains("checkpointed on SIGTERM");
    }

    @Test
    void aKilledSupervisorLeavesItsReplicaAdoptedNotDuplicatedAndAStopEndsEveryProcessOfIt()
            throws Exception
    {
        // like a real worker: a command line longer than the JDK reads of another process (a JVM's class
        // path), a child process of its own (as Spark starts executors); and this one ignores SIGTERM
        Path stubborn = home.resolve("stubborn-worker.sh");
        Files.writeString(stubborn, """
                #!/bin/sh
                sleep 600 &
                child=$!
                trap 'echo "ignoring SIGTERM"' TERM
                while true; do wait "$child"; done
                """);
        Files.setPosixFilePermissions(stubborn, PosixFilePermissions.fromString("rwxr-xr-x"));
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(stubborn.toString(), "--padding=" + "x".repeat(5000)));
        String id = "exp-wrapperkill";
        try {
            adoptedThenStoppedAsAWhole(backend, id);
        }
        finally {
            // whatever happened, this test leaves none of its processes behind
            processes(id).forEach(process -> ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    private void adoptedThenStoppedAsAWhole(LocalProcessBackend backend, String id)
            throws Exception
    {
        backend.launch(gang(id));
        // a scan of every process's environment is slow on a loaded machine: a generous wait
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(backend.status(run(id)).phase()).isEqualTo(GangStatus.Phase.RUNNING);
            assertThat(workersPerRank(id)).as(processes(id).toString()).isEqualTo(Map.of(0, 1, 1, 1));
        });
        List<Long> workersBefore = processes(id).stream().filter(ExperimentProcess::worker).map(ExperimentProcess::pid).sorted().toList();

        // kill -9 $(cat runs/<exp>/rank-0.pid): the supervising shell of rank 0
        Path pidFile = home.resolve("runs").resolve(id).resolve("attempt-1").resolve("rank-0.pid");
        long supervisor = Long.parseLong(Files.readString(pidFile).strip());
        assertThat(new ProcessBuilder("sh", "-c", "kill -9 $(cat " + pidFile + ")").start().waitFor()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(supervisor).map(process -> !process.isAlive()).orElse(true));

        // adopted: still running, the same one worker per rank, at every sample for 3 s
        for (int sample = 0; sample < 15; sample++) {
            assertThat(backend.status(run(id)).phase()).isEqualTo(GangStatus.Phase.RUNNING);
            assertThat(backend.workers()).containsKey(run(id));
            assertThat(workersPerRank(id)).isEqualTo(Map.of(0, 1, 1, 1));
            Thread.sleep(200);
        }
        assertThat(processes(id).stream().filter(ExperimentProcess::worker).map(ExperimentProcess::pid).sorted().toList()).isEqualTo(workersBefore);

        // stopped as a whole: SIGTERM, ignored, then every process of both replicas killed after the grace period
        Duration grace = Duration.ofSeconds(2);
        long stopped = System.nanoTime();
        backend.stop(run(id), grace);
        assertThat(backend.status(run(id)).phase()).isEqualTo(GangStatus.Phase.GONE);
        await().atMost(grace.plusSeconds(5)).pollInterval(Duration.ofMillis(100)).until(() -> processes(id).isEmpty());
        assertThat(backend.workers()).isEmpty();
        assertThat(backend.logTail(id, 0, 5)).contains("ignoring SIGTERM");
        System.out.printf("local backend: every process of %s gone %.1f s after the stop (grace %d s)%n", id,
                (System.nanoTime() - stopped) / 1e9, grace.toSeconds());
    }

    /** A live process of the experiment: it carries the experiment in its environment, as every process of a replica does. */
    private record ExperimentProcess(long pid, int rank, boolean worker) {}

    /** This test's processes of the experiment (by its home: another run's may still be around). */
    private List<ExperimentProcess> processes(String id)
    {
        List<ExperimentProcess> found = new java.util.ArrayList<>();
        ProcessHandle.allProcesses().forEach(process -> {
            try {
                Path proc = Path.of("/proc", Long.toString(process.pid()));
                Map<String, String> environment = new java.util.HashMap<>();
                for (String entry : new String(Files.readAllBytes(proc.resolve("environ")), java.nio.charset.StandardCharsets.UTF_8).split("\0")) {
                    int equals = entry.indexOf('=');
                    if (equals > 0) {
                        environment.put(entry.substring(0, equals), entry.substring(equals + 1));
                    }
                }
                String stat = Files.readString(proc.resolve("stat"));
                if (!id.equals(environment.get("TRANCHE_EXPERIMENT_ID")) || !environment.getOrDefault("TRANCHE_CHECKPOINT_DIR", "").startsWith(home.toString()) || stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) {
                    return;
                }
                String commandLine = new String(Files.readAllBytes(proc.resolve("cmdline")), java.nio.charset.StandardCharsets.UTF_8);
                found.add(new ExperimentProcess(process.pid(), Integer.parseInt(environment.get("TRANCHE_RANK")), commandLine.contains("stubborn-worker.sh\0")
                        && !commandLine.startsWith("setsid") && !commandLine.contains("TRANCHE_EXIT_FILE")));
            }
            catch (IOException | RuntimeException e) {
                // gone meanwhile, or not ours
            }
        });
        return found;
    }

    /** How many worker processes (not their supervisors, not their children) each rank has now. */
    private Map<Integer, Integer> workersPerRank(String id)
    {
        Map<Integer, Integer> perRank = new java.util.TreeMap<>();
        processes(id).stream().filter(ExperimentProcess::worker).forEach(process -> perRank.merge(process.rank(), 1, Integer::sum));
        return perRank;
    }

    @Test
    void workersOfATlsSchedulerAreToldWhatToTrust()
            throws IOException
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()), SchedulerTrust.caFile("/srv/tranche/tls/cert.pem"));
        Files.createDirectories(home.resolve("runs/exp-tlsworker01"));
        Files.writeString(home.resolve("runs/exp-tlsworker01/mode"), "finish");
        backend.launch(gang("exp-tlsworker01"));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.status(run("exp-tlsworker01")).phase() == GangStatus.Phase.SUCCEEDED);
        assertThat(backend.logTail("exp-tlsworker01", 0, 5)).contains("scheduler 127.0.0.1:50051 tls 1 ca /srv/tranche/tls/cert.pem");
        assertThat(backend.logTail("exp-tlsworker01", 1, 5)).contains("scheduler 127.0.0.1:50051 tls 1 ca /srv/tranche/tls/cert.pem");
    }

    /**
     * A worker writes bytes, not UTF-8: a byte that is not UTF-8 (or a character a live read cuts in
     * two) reads as U+FFFD, where it failed every logs request for the experiment.
     */
    @Test
    void aLogThatIsNotUtf8StillHasItsLinesRead()
            throws IOException
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        Path log = Files.createDirectories(home.resolve("runs/exp-badbytes01")).resolve("rank-0.log");
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        bytes.writeBytes("step 1 ok\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        bytes.writeBytes(new byte[] {(byte) 0xC3, 0x28});
        bytes.writeBytes(" loss 0.5\nstep 2 ok\r\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        // the first byte of an 'é' whose second byte is not written yet
        bytes.writeBytes(new byte[] {'e', 'p', 'o', 'c', 'h', ' ', (byte) 0xC3});
        Files.write(log, bytes.toByteArray());

        assertThat(backend.logTail("exp-badbytes01", 0, 100)).containsExactly("step 1 ok", "\uFFFD( loss 0.5", "step 2 ok", "epoch \uFFFD");
        assertThat(backend.logTail("exp-badbytes01", 0, 2)).containsExactly("step 2 ok", "epoch \uFFFD");
    }

    /**
     * A tail is read from the end of the log, only as far back as it needs (and never more than
     * MAX_TAIL_BYTES), so a log of gigabytes is not read whole on every logs request.
     */
    @Test
    void aLogTailReadsOnlyTheEndOfALargeLog()
            throws IOException
    {
        LocalProcessBackend backend = new LocalProcessBackend(home, List.of(worker.toString()));
        Path log = Files.createDirectories(home.resolve("runs/exp-largelog01")).resolve("rank-0.log");
        try (java.io.Writer out = Files.newBufferedWriter(log)) {
            for (int i = 1; i <= 300_000; i++) {
                out.write("step " + i + " loss " + (1.0 / i) + "\n");
            }
        }
        assertThat(backend.logTail("exp-largelog01", 0, 3)).containsExactly("step 299998 loss " + (1.0 / 299_998), "step 299999 loss " + (1.0 / 299_999),
                "step 300000 loss " + (1.0 / 300_000));
        List<String> tenThousand = backend.logTail("exp-largelog01", 0, 10_000);
        assertThat(tenThousand).hasSize(10_000);
        assertThat(tenThousand.get(0)).isEqualTo("step 290001 loss " + (1.0 / 290_001));
        assertThat(tenThousand.get(9_999)).isEqualTo("step 300000 loss " + (1.0 / 300_000));

        // lines longer than what one tail reads: the whole lines at its end, and no more than that much
        Path wide = Files.createDirectories(home.resolve("runs/exp-widelog001")).resolve("rank-0.log");
        String line = "x".repeat(LocalProcessBackend.MAX_TAIL_BYTES / 3);
        Files.writeString(wide, (line + "\n").repeat(5) + "last\n");
        List<String> tail = backend.logTail("exp-widelog001", 0, 100);
        assertThat(tail).last().isEqualTo("last");
        assertThat(tail).hasSize(3).allSatisfy(read -> assertThat(read).isIn(line, "last"));
        // one line longer than that: its end
        Path single = Files.createDirectories(home.resolve("runs/exp-widelog002")).resolve("rank-0.log");
        Files.writeString(single, "y".repeat(LocalProcessBackend.MAX_TAIL_BYTES * 2));
        assertThat(backend.logTail("exp-widelog002", 0, 100)).containsExactly("y".repeat(LocalProcessBackend.MAX_TAIL_BYTES));
    }

    /** Attempt 1 of the experiment. */
    private static RunAttempt run(String id)
    {
        return new RunAttempt(id, 1);
    }

    private static LaunchRequest gang(String id)
    {
        return gang(id, 1);
    }

    private static LaunchRequest gang(String id, int attempt)
    {
        return new LaunchRequest(id, attempt, "vision", "{\"name\": \"x\"}", List.of(
                new ReplicaLaunch(0, "local-1", Map.of(3, 500), 1000, 2048, 24576),
                new ReplicaLaunch(1, "local-2", Map.of(0, 1000, 1, 1000), 1000, 2048, 24576)),
                "127.0.0.1:50051", "tw1.x", new dev.tranche.scheduler.backend.GangPorts(17010, 17011, 17012, 17013));
    }
}
