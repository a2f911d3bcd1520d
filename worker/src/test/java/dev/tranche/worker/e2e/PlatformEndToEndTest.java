package dev.tranche.worker.e2e;

import dev.tranche.testing.Prerequisites;
import dev.tranche.files.TempDirectories;
import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.StateTransition;
import dev.tranche.spec.ExperimentSpecFiles;
import dev.tranche.worker.data.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole platform on this machine: `./tranche server --run-workers` (embedded PostgreSQL, the
 * scheduling loop, the local execution backend) trains real experiments with real `tranche worker`
 * processes (Spark local mode, DL4J) on small IDX data sets; metrics land in PostgreSQL. A worker
 * killed with SIGKILL is retried and resumes from its checkpoint, and the metric series has every
 * epoch exactly once. A cancelled experiment's whole process tree stops and stays stopped. A
 * scheduler killed with SIGKILL and restarted re-adopts its running worker, never running two. A
 * project reclaiming its deserved GPUs preempts another project's borrowing experiment, which
 * checkpoints on SIGTERM and later resumes from that checkpoint.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class PlatformEndToEndTest
{
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** The server reads its admin token from here once authentication exists; today it is ignored. */
    // at least 32 characters, as the scheduler requires of TRANCHE_ADMIN_TOKEN
    private static final String ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef0123456789";
    private static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    /** How long the scheduler gives a stopped worker to checkpoint before it kills it (SchedulerServer.WORKER_GRACE). */
    private static final Duration WORKER_GRACE = Duration.ofSeconds(60);

    private Path dir;
    private Path home;
    private int grpcPort;
    private int httpPort;

    private Process scheduler;
    private TrancheClient client;

    @BeforeAll
    void start()
            throws Exception
    {
        Prerequisites.require(Files.exists(ROOT.resolve("scheduler/target/classpath.txt")) && Files.exists(ROOT.resolve("worker/target/classpath.txt")),
                "the end-to-end test runs in the full build (./mvnw verify), after the scheduler is packaged");
        dir = Files.createTempDirectory("tranche-e2e-");
        Fixtures.idx(dir.resolve("data"), 1600, 200, true);
        home = dir.resolve("home");
        grpcPort = freePort();
        httpPort = freePort();
        startScheduler();
    }

    /** `./tranche server --run-workers` on {@link #home} and the same two ports every time: a restart is the same server. */
    private void startScheduler()
            throws IOException
    {
        ProcessBuilder builder = new ProcessBuilder(ROOT.resolve("tranche").toString(), "server", "--home", home.toString(), "--bind", "127.0.0.1",
                "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort),
                "--local-nodes", "1", "--gpus-per-node", "2", "--run-workers",
                // the synthetic data set lives in this test's folder; Fashion-MNIST in Debian's
                "--dataset-root", dir.toString(), "--dataset-root", FASHION_MNIST.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("scheduler.log").toFile()));
        builder.environment().put("TRANCHE_ADMIN_TOKEN", ADMIN_TOKEN);
        scheduler = builder.start();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> scheduler.isAlive() && !client().listProjects().isEmpty());
    }

    /**
     * The one place a client is made: every call of the test goes through it (with authentication,
     * the admin token goes here). gRPC reconnects on its own, so it outlives a scheduler restart.
     */
    private TrancheClient client()
    {
        if (client == null) {
            client = TrancheClient.connect(ConnectionSettings.plaintext("127.0.0.1:" + grpcPort).withToken(ADMIN_TOKEN));
        }
        return client;
    }

    @AfterAll
    void stop()
            throws InterruptedException
    {
        if (client != null) {
            client.close();
        }
        boolean schedulerStopped = true;
        if (scheduler != null) {
            scheduler.destroy();
            schedulerStopped = scheduler.waitFor(60, TimeUnit.SECONDS);
        }
        // workers the scheduler started (it leaves them running by design: a restarted scheduler re-adopts them)
        List<ProcessHandle> killed = new ArrayList<>();
        if (home != null && Files.isDirectory(home.resolve("runs"))) {
            try (var pids = Files.walk(home.resolve("runs"))) {
                pids.filter(path -> path.toString().endsWith(".pid")).forEach(path -> {
                    try {
                        ProcessHandle.of(Long.parseLong(Files.readString(path).strip())).ifPresent(process -> {
                            process.descendants().forEach(child -> {
                                child.destroyForcibly();
                                killed.add(child);
                            });
                            process.destroyForcibly();
                            killed.add(process);
                        });
                    }
                    catch (IOException | NumberFormatException ignored) {
                        // already gone
                    }
                });
            }
            catch (IOException ignored) {
                // a temporary directory
            }
        }
        // nothing writes into the directory any more: the data, the home and its database go
        for (ProcessHandle process : killed) {
            try {
                process.onExit().get(30, TimeUnit.SECONDS);
            }
            catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("worker process " + process.pid() + " did not exit after being killed", e);
            }
        }
        if (!schedulerStopped) {
            // its workers are stopped all the same (above); its database may still be writing, so the directory stays
            throw new IllegalStateException("the scheduler did not stop within 60 s of SIGTERM; its home is left in " + home);
        }
        if (dir != null) {
            TempDirectories.deleteTree(dir);
        }
    }

    @Test
    void aSubmittedExperimentTrainsToSucceededWithItsMetricsInPostgres()
            throws IOException
    {
        String id = client().submit(spec("e2e-trains", 2)).getExperiment().getId();
        Experiment done = awaitEnd(id, Duration.ofMinutes(4));
        assertThat(done.getState()).as(done.getReason() + "\n" + log()).isEqualTo(ExperimentState.SUCCEEDED);
        assertThat(done.getHistoryList()).extracting(StateTransition::getTo)
                .containsSubsequence(ExperimentState.PENDING, ExperimentState.SCHEDULED, ExperimentState.RUNNING, ExperimentState.SUCCEEDED);
        assertThat(epochs(id, "validation_accuracy")).containsExactly(1, 2);
        // the test images once, at the end, on the model kept (the best on validation)
        assertThat(epochs(id, "test_accuracy")).hasSize(1);
        assertThat(client().metrics(GetMetricsRequest.newBuilder().setExperimentId(id).addNames("loss").build()).getPointsCount()).isPositive();
        // the worker's own output, through the scheduler
        assertThat(client().logs(id, 0, 100)).anySatisfy(line -> assertThat(line).startsWith("epoch 2/2 done"));
    }

    @Test
    void aWorkerKilledWithSigkillIsRetriedAndResumesFromItsCheckpoint()
            throws IOException
    {
        String id = client().submit(spec("e2e-killed", 3)).getExperiment().getId();
        // wait for epoch 2, then kill the worker's JVM the hard way
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300)).until(() -> latestEpoch(id) >= 2);
        Path pidFile = home.resolve("runs").resolve(id).resolve("attempt-1").resolve("rank-0.pid");
        ProcessHandle supervisor = ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).orElseThrow();
        List<ProcessHandle> workers = supervisor.children().toList();
        assertThat(workers).isNotEmpty();
        workers.forEach(worker -> {
            worker.descendants().forEach(ProcessHandle::destroyForcibly);
            worker.destroyForcibly();
        });

        Experiment done = awaitEnd(id, Duration.ofMinutes(5));
        assertThat(done.getState()).as(done.getReason() + "\n" + log()).isEqualTo(ExperimentState.SUCCEEDED);
        assertThat(done.getHistoryList()).extracting(StateTransition::getReason).anySatisfy(reason -> assertThat(reason).startsWith("attempt 1 of 3 failed"));
        // every epoch once: the resumed run replaced what the killed one had sent for epoch 2
        assertThat(epochs(id, "validation_accuracy")).as(points(id) + "\n" + log()).containsExactly(1, 2, 3);
        assertThat(epochs(id, "train_loss")).containsExactly(1, 2, 3);
        assertThat(log()).contains("resuming from checkpoint");
    }

    @Test
    void cancellingARunningExperimentStopsItsWholeProcessTreeAndNothingRelaunches()
            throws IOException
    {
        String id = client().submit(spec("e2e-cancelled", "default", 20, "{fraction: 0.5}")).getExperiment().getId();
        // running, training (a step reported), and its worker JVM is on the process table
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300))
                .until(() -> client().get(id).getState() == ExperimentState.RUNNING && latestEpoch(id) >= 1
                        && workerProcesses(id).stream().anyMatch(WorkerProcess::jvm));
        List<WorkerProcess> before = workerProcesses(id);
        long supervisor = Long.parseLong(Files.readString(home.resolve("runs").resolve(id).resolve("attempt-1").resolve("rank-0.pid")).strip());
        // the supervisor leads the session the backend started (setsid): the session is the whole tree
        assertThat(before).as(before.toString()).allSatisfy(process -> assertThat(process.session()).isEqualTo(supervisor));

        long cancelled = System.nanoTime();
        assertThat(client().cancel(id, "e2e").getState()).isEqualTo(ExperimentState.CANCELLED);
        await().atMost(WORKER_GRACE).pollInterval(Duration.ofMillis(200))
                .until(() -> workerProcesses(id).isEmpty() && sessionMembers(supervisor).isEmpty());
        Duration stopped = Duration.ofNanos(System.nanoTime() - cancelled);
        // it stopped on SIGTERM, checkpointing, not by the kill that ends the grace period
        assertThat(Files.readString(home.resolve("runs").resolve(id).resolve("attempt-1").resolve("rank-0.exit")).strip()).isEqualTo("143");
        assertThat(workerLog(id)).contains("SIGTERM: checkpointing and stopping");

        // and it stays stopped: no relaunch, no new worker
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
                .until(() -> workerProcesses(id).isEmpty() && client().get(id).getState() == ExperimentState.CANCELLED);
        Experiment done = client().get(id);
        assertThat(done.getHistoryList()).extracting(StateTransition::getTo)
                .containsExactly(ExperimentState.PENDING, ExperimentState.SCHEDULED, ExperimentState.RUNNING, ExperimentState.CANCELLED);
        assertThat(Long.parseLong(Files.readString(home.resolve("runs").resolve(id).resolve("attempt-1").resolve("rank-0.pid")).strip())).isEqualTo(supervisor);
        System.out.printf("e2e: cancelled worker tree of %s (%d processes) gone %.1f s after the cancel%n", id, before.size(), stopped.toMillis() / 1000.0);
    }

    @Test
    void aSchedulerKilledWithSigkillAndRestartedReadoptsItsWorkerWithoutDuplicates()
            throws Exception
    {
        String id = client().submit(spec("e2e-scheduler-killed", "default", 4, "{fraction: 0.5}")).getExperiment().getId();
        try (ProcessSampler sampler = new ProcessSampler()) {
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300))
                    .until(() -> client().get(id).getState() == ExperimentState.RUNNING && latestEpoch(id) >= 1);
            List<Long> workers = workerProcesses(id).stream().filter(WorkerProcess::jvm).map(WorkerProcess::pid).toList();
            assertThat(workers).hasSize(1);

            // SIGKILL the scheduler's JVM itself (./tranche execs java: the process is the JVM, no wrapper shell)
            ProcessHandle jvm = scheduler.toHandle();
            assertThat(jvm.info().command()).hasValueSatisfying(command -> assertThat(command).endsWith("/java"));
            long killed = System.nanoTime();
            jvm.destroyForcibly();
            assertThat(scheduler.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(scheduler.exitValue()).isEqualTo(128 + 9);
            // its worker trains on, in a session of its own
            assertThat(ProcessHandle.of(workers.get(0)).map(ProcessHandle::isAlive)).hasValue(true);

            startScheduler();
            Duration down = Duration.ofNanos(System.nanoTime() - killed);
            Experiment done = awaitEnd(id, Duration.ofMinutes(4));
            assertThat(done.getState()).as(done.getReason() + "\n" + log()).isEqualTo(ExperimentState.SUCCEEDED);
            // re-adopted: the one worker it had before the kill finished the run; it was never counted as failed or relaunched
            assertThat(done.getHistoryList()).extracting(StateTransition::getTo)
                    .containsExactly(ExperimentState.PENDING, ExperimentState.SCHEDULED, ExperimentState.RUNNING, ExperimentState.SUCCEEDED);
            sampler.sampleNow();
            assertThat(sampler.maxJvmsPerRank(id)).as(sampler.toString()).isEqualTo(1);
            assertThat(sampler.jvmPids(id)).containsExactlyElementsOf(workers);
            assertThat(workerLog(id)).doesNotContain("resuming from checkpoint");
            assertThat(epochs(id, "validation_accuracy")).as(points(id) + "\n" + log()).containsExactly(1, 2, 3, 4);
            assertThat(epochs(id, "train_loss")).containsExactly(1, 2, 3, 4);
            System.out.printf("e2e: scheduler killed and serving again after %.1f s; %d process samples, at most %d worker JVM per rank%n",
                    down.toMillis() / 1000.0, sampler.samples(), sampler.maxJvmsPerRank(id));
        }
    }

    @Test
    void aKilledWorkerWrapperIsAdoptedNeverDuplicatedAndACancelEndsEveryProcessOfTheExperiment()
            throws Exception
    {
        // two at once on the node's GPUs: one is left to finish, the other is cancelled
        String finishing = client().submit(spec("e2e-wrapper-finishes", "default", 3, "{fraction: 0.5}")).getExperiment().getId();
        String cancelled = client().submit(spec("e2e-wrapper-cancelled", "default", 20, "{fraction: 0.5}")).getExperiment().getId();
        try (ProcessSampler sampler = new ProcessSampler()) {
            // the supervising shell of each, the way an operator would: kill -9 $(cat runs/<exp>/attempt-1/rank-0.pid),
            // each as soon as its trainer has finished an epoch (the short one could otherwise finish its
            // whole run while the other is still starting, on a loaded machine)
            for (String id : List.of(finishing, cancelled)) {
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300))
                        .until(() -> client().get(id).getState() == ExperimentState.RUNNING && latestEpoch(id) >= 1
                                && workerProcesses(id).stream().anyMatch(WorkerProcess::jvm));
                Path pidFile = home.resolve("runs").resolve(id).resolve("attempt-1").resolve("rank-0.pid");
                long shell = Long.parseLong(Files.readString(pidFile).strip());
                assertThat(new ProcessBuilder("sh", "-c", "kill -9 $(cat " + pidFile + ")").start().waitFor())
                        .as("kill -9 of %s's wrapper %d (state %s, epoch %d)", id, shell, client().get(id).getState(), latestEpoch(id)).isZero();
                await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(shell).map(process -> !process.isAlive()).orElse(true));
            }

            // adopted: the one trainer finishes the run, never counted as failed, never joined by a second
            Experiment done = awaitEnd(finishing, Duration.ofMinutes(4));
            assertThat(done.getState()).as(done.getReason() + "\n" + log()).isEqualTo(ExperimentState.SUCCEEDED);
            assertThat(done.getHistoryList()).extracting(StateTransition::getTo)
                    .containsExactly(ExperimentState.PENDING, ExperimentState.SCHEDULED, ExperimentState.RUNNING, ExperimentState.SUCCEEDED);
            assertThat(epochs(finishing, "validation_accuracy")).as(points(finishing) + "\n" + log()).containsExactly(1, 2, 3);

            // the other is cancelled: every process of it ends within its grace period
            assertThat(client().get(cancelled).getState()).isEqualTo(ExperimentState.RUNNING);
            long cancelledAt = System.nanoTime();
            assertThat(client().cancel(cancelled, "e2e").getState()).isEqualTo(ExperimentState.CANCELLED);
            await().atMost(WORKER_GRACE.plusSeconds(5)).pollInterval(Duration.ofMillis(200)).until(() -> workerProcesses(cancelled).isEmpty());
            Duration stopped = Duration.ofNanos(System.nanoTime() - cancelledAt);
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(250))
                    .until(() -> workerProcesses(cancelled).isEmpty() && client().get(cancelled).getState() == ExperimentState.CANCELLED);
            assertThat(client().get(cancelled).getHistoryList()).extracting(StateTransition::getTo)
                    .containsExactly(ExperimentState.PENDING, ExperimentState.SCHEDULED, ExperimentState.RUNNING, ExperimentState.CANCELLED);

            sampler.sampleNow();
            for (String id : List.of(finishing, cancelled)) {
                assertThat(sampler.maxJvmsPerRank(id)).as(sampler.toString()).isEqualTo(1);
                assertThat(sampler.jvmPids(id)).as(sampler.toString()).hasSize(1);
            }
            System.out.printf("e2e: worker wrappers killed; %d process samples, at most %d trainer JVM per rank; the adopted %s finished, "
                    + "every process of the cancelled %s gone %.1f s after the cancel (grace %d s)%n", sampler.samples(),
                    Math.max(sampler.maxJvmsPerRank(finishing), sampler.maxJvmsPerRank(cancelled)), finishing, cancelled, stopped.toMillis() / 1000.0,
                    WORKER_GRACE.toSeconds());
        }
    }

    @Test
    void inQuotaWorkReclaimsBorrowedGpusAndThePreemptedExperimentResumesFromItsCheckpoint()
            throws Exception
    {
        // two projects, one GPU each of the node's two; B borrows A's idle GPU with a 2-GPU experiment
        for (String project : List.of("team-a", "team-b")) {
            client().createProject(Project.newBuilder().setName(project).build());
            client().setQuota(project, Quota.newBuilder().setDeservedGpus(1).build());
        }
        try (ProcessSampler sampler = new ProcessSampler()) {
            String borrower = client().submit(spec("e2e-borrower", "team-b", 3, "{count: 2}")).getExperiment().getId();
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300)).until(() -> epochs(borrower, "validation_accuracy").contains(1));
            assertThat(client().get(borrower).getState()).isEqualTo(ExperimentState.RUNNING);

            // A asks for its deserved GPU: the scheduler takes it back from B's over-quota experiment
            String owner = client().submit(spec("e2e-owner", "team-a", 1, "{count: 1}")).getExperiment().getId();
            Experiment preempted = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> client().get(borrower), experiment -> experiment.getHistoryList().stream().anyMatch(step -> step.getTo() == ExperimentState.PREEMPTED));
            assertThat(preempted.getHistoryList()).filteredOn(step -> step.getTo() == ExperimentState.PREEMPTED).singleElement()
                    .satisfies(step -> assertThat(step.getReason()).contains("project team-a reclaims GPUs").contains(owner));

            Experiment first = awaitEnd(owner, Duration.ofMinutes(4));
            assertThat(first.getState()).as(first.getReason() + "\n" + log()).isEqualTo(ExperimentState.SUCCEEDED);
            Experiment resumed = awaitEnd(borrower, Duration.ofMinutes(4));
            assertThat(resumed.getState()).as(resumed.getReason() + "\n" + log()).isEqualTo(ExperimentState.SUCCEEDED);
            sampler.sampleNow();

            // the timeline: B preempted, then A runs; B runs again only once A is done
            assertThat(resumed.getHistoryList()).extracting(StateTransition::getTo).containsExactly(
                    ExperimentState.PENDING, ExperimentState.SCHEDULED, ExperimentState.RUNNING, ExperimentState.PREEMPTED,
                    ExperimentState.PENDING, ExperimentState.SCHEDULED, ExperimentState.RUNNING, ExperimentState.SUCCEEDED);
            Instant preemptedAt = at(resumed, ExperimentState.PREEMPTED, 0);
            assertThat(at(first, ExperimentState.RUNNING, 0)).isAfterOrEqualTo(preemptedAt);
            assertThat(at(resumed, ExperimentState.RUNNING, 1)).isAfterOrEqualTo(at(first, ExperimentState.SUCCEEDED, 0));
            // the two never ran side by side: A's worker started once B's had stopped
            assertThat(sampler.overlapped(owner, borrower)).as(sampler.toString()).isFalse();

            // B's worker got SIGTERM, wrote a checkpoint, and the second run resumed from that checkpoint, not from epoch 0
            String log = workerLog(borrower);
            assertThat(log).contains("SIGTERM: checkpointing and stopping");
            Matcher written = Pattern.compile("SIGTERM: checkpointing and stopping[\\s\\S]*?\\ncheckpoint \\S+/(epoch-\\d{4}-batch-\\d{6}\\.ckpt)\\n").matcher(log);
            assertThat(written.find()).as(log).isTrue();
            Matcher resumedFrom = Pattern.compile("resuming from checkpoint (\\S+): epoch (\\d+) done").matcher(log);
            assertThat(resumedFrom.find()).as(log).isTrue();
            assertThat(resumedFrom.group(1)).isEqualTo(written.group(1));
            assertThat(Integer.parseInt(resumedFrom.group(2))).isGreaterThanOrEqualTo(1);
            assertThat(sampler.jvmPids(borrower)).hasSize(2);
            assertThat(sampler.maxJvmsPerRank(borrower)).isEqualTo(1);
            // every epoch once, across both runs
            assertThat(epochs(borrower, "validation_accuracy")).as(points(borrower) + "\n" + log()).containsExactly(1, 2, 3);
            assertThat(epochs(borrower, "train_loss")).containsExactly(1, 2, 3);
            System.out.printf("e2e: %s preempted for %s and resumed from %s%n", borrower, owner, resumedFrom.group(1));
        }
    }

    private Experiment awaitEnd(String id, Duration timeout)
    {
        await().atMost(timeout).pollInterval(Duration.ofSeconds(1)).until(() -> {
            ExperimentState state = client().get(id).getState();
            return state == ExperimentState.SUCCEEDED || state == ExperimentState.FAILED || state == ExperimentState.CANCELLED;
        });
        return client().get(id);
    }

    private int latestEpoch(String id)
    {
        return client().metrics(GetMetricsRequest.newBuilder().setExperimentId(id).addNames("loss").setLatestOnly(true).build())
                .getPointsList().stream().mapToInt(MetricPoint::getEpoch).max().orElse(0);
    }

    @Test
    void twoGangsOfTwoReplicasOnOneNodeTrainAtOnceOnPortsOfTheirOwn()
            throws IOException
    {
        String first = client().submit(gang("e2e-gang-a")).getExperiment().getId();
        String second = client().submit(gang("e2e-gang-b")).getExperiment().getId();
        Map<String, Set<String>> ports = new HashMap<>();
        // while both run, every process of each gang carries the ports the scheduler gave it
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() -> {
            ports.put(first, gangPorts(first));
            ports.put(second, gangPorts(second));
            return ports.get(first).size() == 4 && ports.get(second).size() == 4;
        });
        assertThat(ports.get(first)).as("ports of both gangs").doesNotContainAnyElementsOf(ports.get(second));
        Experiment a = awaitEnd(first, Duration.ofMinutes(5));
        Experiment b = awaitEnd(second, Duration.ofMinutes(5));
        assertThat(a.getState()).as(a.getReason() + "\n" + log()).isEqualTo(ExperimentState.SUCCEEDED);
        assertThat(b.getState()).as(b.getReason() + "\n" + log()).isEqualTo(ExperimentState.SUCCEEDED);
        // at once: each was running before the other finished
        assertThat(at(a, ExperimentState.RUNNING, 0)).isBefore(at(b, ExperimentState.SUCCEEDED, 0));
        assertThat(at(b, ExperimentState.RUNNING, 0)).isBefore(at(a, ExperimentState.SUCCEEDED, 0));
        // and each trained as a Spark standalone cluster on its own master port
        assertThat(workerLog(first)).contains("Spark spark://127.0.0.1:" + masterPort(ports.get(first)));
        assertThat(workerLog(second)).contains("Spark spark://127.0.0.1:" + masterPort(ports.get(second)));
    }

    /** A quarter GPU for each of 2 replicas, one small epoch: two such gangs fit on the test's one node. */
    private ExperimentSpec gang(String name)
    {
        return spec(name, 1).toBuilder().setReplicas(2)
                .setResources(spec(name, 1).getResources().toBuilder().setGpu(dev.tranche.proto.v1.GpuRequest.newBuilder().setFraction(0.25))).build();
    }

    /** "master=P", "driver=P", ... as every live process of the experiment's workers was told them (empty if they differ or none run). */
    private static Set<String> gangPorts(String id)
    {
        Set<Set<String>> seen = new HashSet<>();
        for (WorkerProcess process : workerProcesses(id)) {
            Map<String, String> environment = environment(process.pid());
            Set<String> ports = new java.util.TreeSet<>();
            String master = environment.getOrDefault("TRANCHE_MASTER_ADDRESS", "");
            if (master.contains(":")) {
                ports.add("master=" + master.substring(master.lastIndexOf(':') + 1));
            }
            for (String name : List.of("TRANCHE_DRIVER_PORT", "TRANCHE_BLOCK_MANAGER_PORT", "TRANCHE_GRADIENT_PORT")) {
                if (environment.containsKey(name)) {
                    ports.add(name + "=" + environment.get(name));
                }
            }
            seen.add(ports);
        }
        return seen.size() == 1 && workerProcesses(id).stream().map(WorkerProcess::rank).distinct().count() == 2 ? seen.iterator().next() : Set.of();
    }

    private static String masterPort(Set<String> ports)
    {
        return ports.stream().filter(port -> port.startsWith("master=")).findFirst().orElseThrow().substring("master=".length());
    }

    private static Map<String, String> environment(long pid)
    {
        Map<String, String> environment = new HashMap<>();
        try {
            for (String entry : new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")), StandardCharsets.UTF_8).split("\0")) {
                int equals = entry.indexOf('=');
                if (equals > 0) {
                    environment.put(entry.substring(0, equals), entry.substring(equals + 1));
                }
            }
        }
        catch (IOException e) {
            // gone meanwhile
        }
        return environment;
    }

    private String points(String id)
    {
        StringBuilder text = new StringBuilder();
        client().metrics(GetMetricsRequest.newBuilder().setExperimentId(id).addNames("validation_accuracy").addNames("loss").build()).getPointsList()
                .forEach(point -> text.append(point.getName()).append(" epoch ").append(point.getEpoch()).append(" step ").append(point.getStep()).append('\n'));
        return text.toString();
    }

    private List<Integer> epochs(String id, String series)
    {
        return client().metrics(GetMetricsRequest.newBuilder().setExperimentId(id).addNames(series).build())
                .getPointsList().stream().map(MetricPoint::getEpoch).sorted().toList();
    }

    private ExperimentSpec spec(String name, int epochs)
    {
        return ExperimentSpecFiles.parse("""
                name: %s
                project: default
                model: {architecture: lenet, conv_filters: [8, 16], dense_units: 64}
                dataset: {kind: mnist, location: %s}
                training: {epochs: %d, batch_size: 32, optimizer: adam, learning_rate: 0.001, seed: 7}
                resources: {gpu: {fraction: 0.5}, cpu_milli: 1000, memory_mib: 2048}
                max_retries: 2
                """.formatted(name, dir.resolve("data"), epochs), name);
    }

    /**
     * A short run on a small Fashion-MNIST subset (the synthetic IDX set where Fashion-MNIST is not
     * installed): a few seconds an epoch.
     */
    private ExperimentSpec spec(String name, String project, int epochs, String gpu)
    {
        String dataset = Files.isRegularFile(FASHION_MNIST.resolve("train-images-idx3-ubyte.gz"))
                ? "{kind: fashion-mnist, location: %s, limit: 960, test_limit: 200}".formatted(FASHION_MNIST)
                : "{kind: mnist, location: %s, limit: 960}".formatted(dir.resolve("data"));
        return ExperimentSpecFiles.parse("""
                name: %s
                project: %s
                model: {architecture: lenet, conv_filters: [8, 16], dense_units: 64}
                dataset: %s
                training: {epochs: %d, batch_size: 32, optimizer: adam, learning_rate: 0.001, seed: 7}
                resources: {gpu: %s, cpu_milli: 1000, memory_mib: 2048}
                max_retries: 2
                """.formatted(name, project, dataset, epochs, gpu), name);
    }

    /** When the experiment entered {@code state} for the {@code occurrence}-th time (from 0). */
    private static Instant at(Experiment experiment, ExperimentState state, int occurrence)
    {
        var step = experiment.getHistoryList().stream().filter(each -> each.getTo() == state).skip(occurrence).findFirst().orElseThrow();
        return Instant.ofEpochSecond(step.getAt().getSeconds(), step.getAt().getNanos());
    }

    private String workerLog(String id)
            throws IOException
    {
        return Files.readString(home.resolve("runs").resolve(id).resolve("rank-0.log"));
    }

    /**
     * One process the local backend started for a replica, or one of its descendants: the supervising
     * shell, the launcher, the worker JVM. Each carries the experiment and rank in its environment.
     */
    private record WorkerProcess(long pid, String experiment, int rank, long session, boolean jvm) {}

    /** Every live process of the experiment's workers on this machine, from /proc. */
    private static List<WorkerProcess> workerProcesses(String id)
    {
        return workerProcesses().stream().filter(process -> process.experiment().equals(id)).toList();
    }

    private static List<WorkerProcess> workerProcesses()
    {
        List<WorkerProcess> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(process -> {
            Map<String, String> environment = new HashMap<>();
            long session;
            try {
                for (String entry : new String(Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "environ")), StandardCharsets.UTF_8).split("\0")) {
                    int equals = entry.indexOf('=');
                    if (equals > 0) {
                        environment.put(entry.substring(0, equals), entry.substring(equals + 1));
                    }
                }
                session = session(process.pid());
            }
            catch (IOException | RuntimeException e) {
                return;   // gone meanwhile, a zombie, or not ours
            }
            String experiment = environment.get("TRANCHE_EXPERIMENT_ID");
            if (experiment != null && process.isAlive()) {
                // a trainer's own child between fork and exec (it starts helpers such as shell commands) is a copy of
                // the JVM for a moment; a second trainer would be a child of a launcher, never of a JVM
                boolean forkOfAJvm = process.parent().flatMap(parent -> parent.info().command()).map(command -> command.endsWith("/java")).orElse(false);
                boolean jvm = !forkOfAJvm && process.info().command().map(command -> command.endsWith("/java")).orElse(false);
                found.add(new WorkerProcess(process.pid(), experiment, Integer.parseInt(environment.getOrDefault("TRANCHE_RANK", "0")), session, jvm));
            }
        });
        return found;
    }

    /** Live processes in the session {@code session} leads, whatever their environment. */
    private static List<Long> sessionMembers(long session)
    {
        List<Long> members = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(process -> {
            try {
                if (session(process.pid()) == session && process.isAlive()) {
                    members.add(process.pid());
                }
            }
            catch (IOException | RuntimeException ignored) {
                // gone meanwhile
            }
        });
        return members;
    }

    /** The session id: the sixth field of /proc/PID/stat (after the command name, which may hold spaces). */
    private static long session(long pid)
            throws IOException
    {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        if (fields[0].equals("Z")) {
            throw new IllegalStateException("zombie");
        }
        return Long.parseLong(fields[3]);
    }

    /** Samples the worker processes every 200 ms, so a test can tell whether two ever ran at once. */
    private static final class ProcessSampler
            implements AutoCloseable
    {
        private final List<List<WorkerProcess>> samples = new CopyOnWriteArrayList<>();
        private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "e2e-process-sampler");
            thread.setDaemon(true);
            return thread;
        });

        ProcessSampler()
        {
            executor.scheduleWithFixedDelay(this::sampleNow, 0, 200, TimeUnit.MILLISECONDS);
        }

        void sampleNow()
        {
            samples.add(workerProcesses().stream().filter(WorkerProcess::jvm).toList());
        }

        int samples()
        {
            return samples.size();
        }

        /** The most worker JVMs of one rank of the experiment seen at the same time. */
        int maxJvmsPerRank(String id)
        {
            int max = 0;
            for (List<WorkerProcess> sample : samples) {
                Map<Integer, Integer> perRank = new HashMap<>();
                sample.stream().filter(process -> process.experiment().equals(id)).forEach(process -> perRank.merge(process.rank(), 1, Integer::sum));
                max = Math.max(max, perRank.values().stream().mapToInt(Integer::intValue).max().orElse(0));
            }
            return max;
        }

        /** Every worker JVM the experiment had, in the order they appeared. */
        Set<Long> jvmPids(String id)
        {
            Set<Long> pids = new LinkedHashSet<>();
            samples.forEach(sample -> sample.stream().filter(process -> process.experiment().equals(id)).forEach(process -> pids.add(process.pid())));
            return pids;
        }

        /** Whether workers of both experiments were ever alive at the same time. */
        boolean overlapped(String first, String second)
        {
            return samples.stream().anyMatch(sample -> sample.stream().anyMatch(process -> process.experiment().equals(first))
                    && sample.stream().anyMatch(process -> process.experiment().equals(second)));
        }

        @Override
        public void close()
        {
            executor.shutdownNow();
        }

        @Override
        public String toString()
        {
            return samples.size() + " samples; the last with workers: "
                    + samples.stream().filter(sample -> !sample.isEmpty()).reduce((first, second) -> second).orElse(List.of());
        }
    }

    /** What the workers printed, for failure messages. */
    private String log()
            throws IOException
    {
        StringBuilder text = new StringBuilder();
        if (Files.isDirectory(home.resolve("runs"))) {
            try (var logs = Files.walk(home.resolve("runs"))) {
                for (Path file : logs.filter(path -> path.toString().endsWith(".log")).toList()) {
                    text.append("== ").append(file).append('\n').append(Files.readString(file));
                }
            }
        }
        return text.toString();
    }

    private static int freePort()
            throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
