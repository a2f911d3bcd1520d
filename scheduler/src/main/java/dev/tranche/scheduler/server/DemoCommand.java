package dev.tranche.scheduler.server;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.SubmitExperimentResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import dev.tranche.scheduler.inventory.DeclaredInventory;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "demo", description = {
        "Start a scheduler with an embedded PostgreSQL, submit the example experiment and show the queue.",
        "Stops cleanly on Ctrl-C; the data stays under --home for the next run."})
public final class DemoCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "State directory (default: $TRANCHE_HOME, else ~/.tranche).")
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
        if (home != null) {
            config = config.withHome(home);
        }
        out.printf("Starting the Tranche scheduler (state in %s) ...%n", config.home());
        out.flush();
        SchedulerServer server = SchedulerServer.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            System.out.println("Tranche demo stopped; its data stays in " + server.config().home());
        }, "tranche-demo-shutdown"));

        ExperimentSpec example = ExampleSpec.fashionMnistLenet();
        try (TrancheClient client = TrancheClient.connect("localhost:" + server.grpcPort())) {
            SubmitExperimentResponse response = client.submit(example);
            out.printf("Submitted %s: %s (%s)%n%n", response.getExperiment().getId(), example.getName(), response.getExperiment().getState());
            server.schedulingLoop().runOnce();
            out.println("Queue:");
            for (Experiment experiment : client.list(ListExperimentsRequest.newBuilder().setPageSize(10).build()).getExperimentsList()) {
                out.printf("  %-16s %-24s %-10s %s%n", experiment.getId(), experiment.getSpec().getName(), experiment.getState(), experiment.getReason());
            }
        }
        out.printf("%nDashboard: http://localhost:%d/%n", server.httpPort());
        out.printf("Try, in another terminal:  ./tranche list   ./tranche nodes   ./tranche quota list   ./tranche describe ID%n");
        out.println("Experiments are placed on 2 simulated nodes with 4 GPUs each; running them arrives with the execution backends.");
        out.println("Press Ctrl-C to stop.");
        out.flush();
        server.awaitTermination();
        return 0;
    }
}
