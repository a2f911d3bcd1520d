package dev.tranche.scheduler.server;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.scheduler.security.TokenSecrets;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

// each description element is one paragraph (picocli wraps it); the first is the summary in `tranche --help`
@Command(name = "demo", description = {
        "The whole platform on this machine, training three small experiments while you watch.",
        "A scheduler with an embedded PostgreSQL and 2 simulated nodes x 4 GPUs, two projects with quotas, and three experiments"
                + " on a Fashion-MNIST subset (a LeNet on half a GPU, one on a quarter and a gang of 2 replicas) trained by local workers."
                + " Shows their progress; Ctrl-C stops it all.",
        "Its data (database, logs, checkpoints) stays in the --home directory between runs; delete that directory to start afresh."})
public final class DemoCommand
        implements Callable<Integer>
{
    private static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    @Spec
    CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "State directory; default: ~/.tranche/demo, or $TRANCHE_HOME if set.")
    Path home;

    @Option(names = "--grpc-port", paramLabel = "PORT", defaultValue = "50051", description = "gRPC port (default: ${DEFAULT-VALUE}).")
    int grpcPort;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "8080", description = "HTTP port (default: ${DEFAULT-VALUE}).")
    int httpPort;

    @Override
    public Integer call()
            throws Exception
    {
        PrintWriter out = spec.commandLine().getOut();
        SchedulerConfig config = SchedulerConfig.fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")))
                .withPorts(grpcPort, httpPort)
                .withBindAddress("127.0.0.1")
                .withInventory(Optional.of(DeclaredInventory.of(2, 4, 24 * 1024)));
        config = config.withHome(home != null ? home : System.getenv("TRANCHE_HOME") != null ? config.home() : config.home().resolve("demo"));
        boolean train = System.getProperty("tranche.launcher") != null && Files.isDirectory(FASHION_MNIST);
        if (train) {
            config = config.withLocalWorkers(Optional.of(SchedulerConfig.launcherWorkerCommand()));
        }
        // a fresh admin token each run, shown below; the previous run's stops working
        String adminToken = new TokenSecrets().newSecret();
        config = config.withSecurity(config.security().withAdminToken(Optional.of(adminToken)));
        out.printf("Starting the Tranche scheduler (state in %s) ...%n", config.home());
        out.flush();
        SchedulerServer server = SchedulerServer.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            server.stopLocalWorkers(Duration.ofSeconds(10));
            server.close();
            System.out.println("Tranche demo stopped; its data stays in " + server.config().home());
        }, "tranche-demo-shutdown"));
        if (!train) {
            out.println(Files.isDirectory(FASHION_MNIST)
                    ? "Workers need the tranche launcher: run ./tranche demo. Experiments are placed but not trained."
                    : "Fashion-MNIST is not installed (Debian: sudo apt-get install dataset-fashion-mnist), so experiments are placed but not trained.");
        }

        List<String> ids = new ArrayList<>();
        try (TrancheClient client = TrancheClient.connect(ConnectionSettings.plaintext("localhost:" + server.grpcPort()).withToken(adminToken))) {
            project(client, "vision", 4, 6);
            project(client, "speech", 2, 4);
            ExperimentSpec example = ExampleSpec.fashionMnistLenet();
            ExperimentSpec small = example.toBuilder()
                    .setDataset(example.getDataset().toBuilder().setLimit(6000).setTestLimit(2000))
                    .setTraining(example.getTraining().toBuilder().setEpochs(2))
                    .build();
            ids.add(client.submit(named(small, "lenet-half", "vision", GpuRequest.newBuilder().setFraction(0.5))).getExperiment().getId());
            ids.add(client.submit(named(small, "lenet-quarter", "speech", GpuRequest.newBuilder().setFraction(0.25))).getExperiment().getId());
            ids.add(client.submit(named(small, "lenet-gang", "vision", GpuRequest.newBuilder().setFraction(0.5)).toBuilder().setReplicas(2).build())
                    .getExperiment().getId());
            out.printf("%nSubmitted %s.%n", String.join(", ", ids));
            out.printf("Dashboard: http://localhost:%d/  (log in with the admin token below)%n", server.httpPort());
            out.printf("Admin token for this run: %s%n", adminToken);
            out.printf("CLI, in another terminal: export TRANCHE_TOKEN=<the token>; ./tranche list, ./tranche nodes, ./tranche quota list%n");
            out.println("Press Ctrl-C to stop.");
            out.println();
            out.flush();
            try {
                progress(client, ids, out);
            }
            catch (StatusRuntimeException e) {
                if (!stopping) {
                    throw e;
                }
                // Ctrl-C: the scheduler is going down under us
            }
        }
        server.awaitTermination();
        return 0;
    }

    /** Prints each experiment's state and newest metrics as they change, until all have ended. */
    private void progress(TrancheClient client, List<String> ids, PrintWriter out)
            throws InterruptedException
    {
        Map<String, String> shown = new HashMap<>();
        while (!stopping) {
            boolean allEnded = true;
            for (String id : ids) {
                Experiment experiment = client.get(id);
                Map<String, MetricPoint> latest = new HashMap<>();
                client.metrics(GetMetricsRequest.newBuilder().setExperimentId(id).setLatestOnly(true).build())
                        .getPointsList().forEach(point -> latest.put(point.getName(), point));
                String line = String.format(Locale.ROOT, "%-16s %-14s %-10s %s%s", id, experiment.getSpec().getName(), experiment.getState(),
                        metrics(latest), latest.isEmpty() ? " " + experiment.getReason() : "");
                if (!line.equals(shown.get(id))) {
                    out.println(line);
                    out.flush();
                    shown.put(id, line);
                }
                ExperimentState state = experiment.getState();
                allEnded &= state == ExperimentState.SUCCEEDED || state == ExperimentState.FAILED || state == ExperimentState.CANCELLED;
            }
            if (allEnded) {
                out.println("All demo experiments have ended; the scheduler keeps running for more (Ctrl-C stops it).");
                out.flush();
                return;
            }
            Thread.sleep(2000);
        }
    }

    private volatile boolean stopping;

    private static String metrics(Map<String, MetricPoint> latest)
    {
        StringBuilder text = new StringBuilder();
        MetricPoint loss = latest.get("loss");
        if (loss != null) {
            text.append(String.format(Locale.ROOT, "epoch %d step %d loss %.3f", loss.getEpoch(), loss.getStep(), loss.getValue()));
        }
        MetricPoint speed = latest.get("images_per_second");
        if (speed != null) {
            text.append(String.format(Locale.ROOT, "  %.0f img/s", speed.getValue()));
        }
        // every epoch is scored on validation images; the test images once, at the end
        MetricPoint validation = latest.get("validation_accuracy");
        if (validation != null) {
            text.append(String.format(Locale.ROOT, "  validation accuracy %.3f", validation.getValue()));
        }
        MetricPoint accuracy = latest.get("test_accuracy");
        if (accuracy != null) {
            text.append(String.format(Locale.ROOT, "  test accuracy %.3f (model of epoch %d)", accuracy.getValue(), accuracy.getEpoch()));
        }
        return text.toString();
    }

    private static ExperimentSpec named(ExperimentSpec base, String name, String project, GpuRequest.Builder gpu)
    {
        return base.toBuilder().setName(name).setProject(project).setResources(base.getResources().toBuilder().setGpu(gpu)).build();
    }

    private static void project(TrancheClient client, String name, double deserved, double limit)
    {
        try {
            client.createProject(Project.newBuilder().setName(name).setDescription("created by tranche demo").build());
        }
        catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
                throw e;
            }
        }
        client.setQuota(name, Quota.newBuilder().setDeservedGpus(deserved).setLimitGpus(limit).build());
    }
}
