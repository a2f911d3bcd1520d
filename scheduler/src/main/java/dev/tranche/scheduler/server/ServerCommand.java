package dev.tranche.scheduler.server;

import dev.tranche.cli.Durations;
import dev.tranche.scheduler.experiment.DatasetRoots;
import dev.tranche.scheduler.backend.kubernetes.KubernetesSettings;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.inventory.DetectedInventory;
import dev.tranche.scheduler.inventory.Sizes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import dev.tranche.scheduler.security.SecuritySettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "server", description = {
        "Run the Tranche scheduler: gRPC API, scheduling loop, HTTP health and dashboard.",
        "With no --db-url it starts an embedded PostgreSQL whose data lives under --home."})
public final class ServerCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "State directory; default: ~/.tranche, or $TRANCHE_HOME if set.")
    Path home;

    @Option(names = "--bind", paramLabel = "ADDRESS", description = "Address to listen on (default: " + SchedulerConfig.DEFAULT_BIND_ADDRESS + ").")
    String bind;

    @Option(names = "--grpc-port", paramLabel = "PORT", description = "gRPC port (default: " + SchedulerConfig.DEFAULT_GRPC_PORT + ").")
    Integer grpcPort;

    @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP port (default: " + SchedulerConfig.DEFAULT_HTTP_PORT + ").")
    Integer httpPort;

    @Option(names = "--db-url", paramLabel = "JDBC_URL",
            description = "External PostgreSQL, e.g. jdbc:postgresql://db:5432/tranche (default: $TRANCHE_DB_URL, else embedded). Password from $TRANCHE_DB_PASSWORD.")
    String databaseUrl;

    @Option(names = "--db-user", paramLabel = "USER", description = "User for --db-url (default: $TRANCHE_DB_USER).")
    String databaseUser;

    @Option(names = "--db-pool-size", paramLabel = "N", description = "Database connections (default: " + SchedulerConfig.DEFAULT_POOL_SIZE + ").")
    Integer databasePoolSize;

    @Option(names = "--local-nodes", paramLabel = "N", description = "Declare N simulated nodes (local-1 ... local-N) as the GPU inventory.")
    Integer localNodes;

    @Option(names = "--gpus-per-node", paramLabel = "G", defaultValue = "4", description = "GPUs on each declared node (default: ${DEFAULT-VALUE}).")
    int gpusPerNode;

    @Option(names = "--gpu-memory", paramLabel = "SIZE", defaultValue = "24GiB", description = "Memory of each declared GPU (default: ${DEFAULT-VALUE}).")
    String gpuMemory;

    @Option(names = "--gpu-model", paramLabel = "MODEL", description = "Model name of the declared GPUs (default: SIM-<memory>G).")
    String gpuModel;

    @Option(names = "--node-cpu", paramLabel = "CORES", defaultValue = "32", description = "CPU cores of each declared node (default: ${DEFAULT-VALUE}).")
    int nodeCpu;

    @Option(names = "--node-memory", paramLabel = "SIZE", defaultValue = "128GiB", description = "Memory of each declared node (default: ${DEFAULT-VALUE}).")
    String nodeMemory;

    @Option(names = "--detect-gpus", description = "Use this machine's GPUs (found with nvidia-smi) as the inventory.")
    boolean detectGpus;

    @Option(names = "--kubernetes", description = "Run workers as pods in this Kubernetes cluster, whose nodes become the inventory (in-cluster config or ~/.kube/config).")
    boolean kubernetes;

    @Option(names = "--kubernetes-namespace", paramLabel = "NAMESPACE", defaultValue = "tranche", description = "Namespace of the worker pods (default: ${DEFAULT-VALUE}).")
    String kubernetesNamespace;

    @Option(names = "--run-workers", description = "Run the workers of placed experiments as child processes of this machine (with --local-nodes or --detect-gpus).")
    boolean runWorkers;

    @Option(names = "--placement-policy", paramLabel = "NAME", description = "fgd (default), best-fit or spread.")
    String placementPolicy;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "Serve gRPC and HTTP over TLS with this PEM certificate chain (with --tls-key).")
    Path tlsCertificate;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The PEM (PKCS#8) private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--rate-limit", paramLabel = "PER_SECOND",
            description = "Requests a second each token may make, bursts of twice that (default: " + (long) SecuritySettings.DEFAULT_RATE_LIMIT + "; 0: no limit).")
    Double rateLimit;

    @Option(names = "--failed-auth-limit", paramLabel = "PER_SECOND",
            description = "Failed authentications a second each client address may make, bursts of " + SecuritySettings.FAILED_AUTHENTICATION_BURST_SECONDS
                    + " seconds' worth; past that the address is refused (429) until it slows down (default: "
                    + (long) SecuritySettings.DEFAULT_FAILED_AUTHENTICATIONS + "; 0: no limit).")
    Double failedAuthLimit;

    @Option(names = "--max-watches-per-token", paramLabel = "N",
            description = "Watches (CLI watch, dashboard tabs) one token may hold open at once; past it the next is refused (429) until one closes (default: "
                    + SecuritySettings.DEFAULT_MAX_WATCHES_PER_TOKEN + ").")
    Integer maxWatchesPerToken;

    @Option(names = "--max-concurrent-exports", paramLabel = "N",
            description = "History exports the server runs at once for all callers; past it the next is refused (429) until one ends (default: "
                    + SecuritySettings.DEFAULT_MAX_CONCURRENT_EXPORTS + ").")
    Integer maxConcurrentExports;

    @Option(names = "--cycle-interval", paramLabel = "DURATION",
            description = "Longest time between two scheduling cycles when nothing changes, e.g. 1s (default: 1s; a submission or freed GPUs start one sooner).")
    String cycleInterval;

    @Option(names = "--cycle-gap", paramLabel = "DURATION",
            description = "Shortest time between two scheduling cycles, so that one cycle serves a burst of submissions (default: 200ms).")
    String cycleGap;

    @Option(names = "--starvation-age", paramLabel = "DURATION",
            description = "How long work may wait before it goes first in its project and, while it does not fit, holds the nodes expected to free room for it soonest, e.g. 5m (default: 5m).")
    String starvationAge;

    @Option(names = "--preemption-grace", paramLabel = "DURATION",
            description = "How long a preempted or cancelled worker gets to checkpoint after SIGTERM before it is killed, e.g. 2m (default: 60s).")
    String preemptionGrace;

    @Option(names = "--start-timeout", paramLabel = "DURATION",
            description = "How long a placed experiment's workers may take to be all up; past it the attempt is stopped and counts as failed; longer than --preemption-grace, e.g. 20m (default: 10m, or the grace plus 10m when the grace is longer).")
    String startTimeout;

    @Option(names = "--usage-retention", paramLabel = "DURATION",
            description = "How long usage samples (the dashboard's Usage page) are kept, e.g. 30d (default: 90d).")
    String usageRetention;

    @Option(names = "--dataset-root", paramLabel = "DIR",
            description = "A folder experiments may read data sets from (repeatable; default: the built-in data sets' folders and HOME/datasets).")
    List<Path> datasetRoots;

    @Override
    public Integer call()
            throws InterruptedException
    {
        SchedulerConfig config = config();
        SchedulerServer server = SchedulerServer.start(config);
        Thread shutdown = new Thread(server::close, "tranche-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        spec.commandLine().getOut().printf("Tranche scheduler ready on gRPC port %d, HTTP port %d (Ctrl-C stops it)%n", server.grpcPort(), server.httpPort());
        spec.commandLine().getOut().flush();
        server.awaitTermination();
        return 0;
    }

    private static Duration min(Duration a, Duration b)
    {
        return a.compareTo(b) <= 0 ? a : b;
    }

    SchedulerConfig config()
    {
        try {
            SchedulerConfig config = SchedulerConfig.fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
            if (home != null) {
                config = config.withHome(home);
            }
            if (bind != null) {
                config = config.withBindAddress(bind);
            }
            config = config.withPorts(grpcPort != null ? grpcPort : config.grpcPort(), httpPort != null ? httpPort : config.httpPort());
            if (databaseUrl != null || databaseUser != null) {
                config = config.withDatabase(
                        databaseUrl != null ? Optional.of(databaseUrl) : config.databaseUrl(),
                        databaseUser != null ? Optional.of(databaseUser) : config.databaseUser(),
                        config.databasePassword());
            }
            if (databasePoolSize != null) {
                config = config.withDatabasePoolSize(databasePoolSize);
            }
            if (detectGpus && localNodes != null) {
                throw new IllegalArgumentException("--detect-gpus and --local-nodes both set the inventory: choose one");
            }
            if (detectGpus) {
                config = config.withInventory(Optional.of(new DetectedInventory(java.net.InetAddress.getLocalHost().getHostName())));
            }
            if (localNodes != null) {
                long gpuMemoryMib = Sizes.parseMib("--gpu-memory", gpuMemory);
                config = config.withInventory(Optional.of(new DeclaredInventory(localNodes, gpusPerNode, gpuMemoryMib,
                        gpuModel != null ? gpuModel : "SIM-" + gpuMemoryMib / 1024 + "G", nodeCpu * 1000L, Sizes.parseMib("--node-memory", nodeMemory))));
            }
            if (kubernetes) {
                config = config.withKubernetes(Optional.of(KubernetesSettings.fromEnvironment(System.getenv(), kubernetesNamespace)));
            }
            if (runWorkers) {
                config = config.withLocalWorkers(Optional.of(SchedulerConfig.launcherWorkerCommand()));
            }
            if (placementPolicy != null) {
                config = config.withPlacementPolicy(placementPolicy);
            }
            SchedulingSettings scheduling = config.scheduling();
            if (cycleInterval != null || cycleGap != null) {
                // together: the gap is checked against the interval it runs with, not the one it replaces
                Duration interval = cycleInterval != null ? Durations.parse("--cycle-interval", cycleInterval) : scheduling.cycleInterval();
                // a default gap longer than a given interval follows it down: the gap is at most the interval
                Duration gap = cycleGap != null ? Durations.parse("--cycle-gap", cycleGap) : min(scheduling.cycleGap(), interval);
                scheduling = scheduling.withCycle(interval, gap);
            }
            if (starvationAge != null) {
                scheduling = scheduling.withStarvationAge(Durations.parse("--starvation-age", starvationAge));
            }
            if (preemptionGrace != null || startTimeout != null) {
                // together: the timeout is checked against the grace it runs with, not the one it replaces
                Duration grace = preemptionGrace != null ? Durations.parse("--preemption-grace", preemptionGrace) : scheduling.preemptionGrace();
                // a default timeout no longer than a given grace follows it up: a new attempt may wait out the grace
                Duration timeout = startTimeout != null
                        ? Durations.parse("--start-timeout", startTimeout)
                        : scheduling.startTimeout().compareTo(grace) > 0 ? scheduling.startTimeout() : grace.plus(SchedulingSettings.DEFAULTS.startTimeout());
                scheduling = scheduling.withExecution(grace, timeout);
            }
            config = config.withScheduling(scheduling);
            if (usageRetention != null) {
                config = config.withUsageRetention(Durations.parse("--usage-retention", usageRetention));
            }
            if ((tlsCertificate == null) != (tlsKey == null)) {
                throw new IllegalArgumentException("--tls-cert and --tls-key go together: give both or neither");
            }
            SecuritySettings security = config.security();
            if (tlsCertificate != null) {
                security = security.withTls(Optional.of(new SecuritySettings.TlsFiles(tlsCertificate, tlsKey)));
            }
            if (rateLimit != null) {
                security = security.withRateLimit(rateLimit);
            }
            if (datasetRoots != null) {
                security = security.withDatasetRoots(Optional.of(new DatasetRoots(datasetRoots).roots()));
            }
            if (failedAuthLimit != null) {
                security = security.withFailedAuthenticationLimit(failedAuthLimit);
            }
            if (maxWatchesPerToken != null || maxConcurrentExports != null) {
                security = security.withStreamLimits(maxWatchesPerToken != null ? maxWatchesPerToken : security.maxWatchesPerToken(),
                        maxConcurrentExports != null ? maxConcurrentExports : security.maxConcurrentExports());
            }
            return config.withSecurity(security);
        }
        catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("cannot name this machine for --detect-gpus: " + e.getMessage(), e);
        }
    }
}
