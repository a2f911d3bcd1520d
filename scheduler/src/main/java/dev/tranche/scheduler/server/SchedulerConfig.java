package dev.tranche.scheduler.server;

import dev.tranche.scheduler.backend.kubernetes.KubernetesSettings;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import dev.tranche.scheduler.inventory.Inventory;
import dev.tranche.scheduler.security.SecuritySettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Everything the scheduler process is configured with, validated in one place. Command-line flags
 * win over environment variables, which win over the defaults (see docs/admin-guide.md).
 *
 * @param home directory for the embedded database and other state ($TRANCHE_HOME, default ~/.tranche)
 * @param bindAddress address the gRPC and HTTP servers listen on
 * @param grpcPort gRPC port, 0 for any free port
 * @param httpPort HTTP port (health, later the dashboard), 0 for any free port
 * @param databaseUrl JDBC URL of an external PostgreSQL; empty starts the embedded one under home
 * @param databaseUser user for the external database
 * @param databasePassword password for the external database ($TRANCHE_DB_PASSWORD; never logged)
 * @param databasePoolSize connections kept open to the database
 * @param shutdownGrace how long in-flight calls get to finish on shutdown
 * @param inventory nodes and GPUs declared on the command line or detected on this machine, if any
 * @param placementPolicy the placement policy's name (fgd, best-fit, spread)
 * @param kubernetes run workers as pods, with the cluster's nodes as the inventory
 * @param localWorkerCommand run workers as child processes of this machine with this command
 * @param security tokens, TLS and rate limits (see docs/security.md)
 * @param scheduling the scheduling loop's pace and starvation age
 * @param usageRetention how long usage samples (the Usage page) are kept
 */
public record SchedulerConfig(
        Path home,
        String bindAddress,
        int grpcPort,
        int httpPort,
        Optional<String> databaseUrl,
        Optional<String> databaseUser,
        Optional<String> databasePassword,
        int databasePoolSize,
        Duration shutdownGrace,
        Optional<Inventory> inventory,
        String placementPolicy,
        Optional<KubernetesSettings> kubernetes,
        Optional<List<String>> localWorkerCommand,
        SecuritySettings security,
        SchedulingSettings scheduling,
        Duration usageRetention)
{
    public static final int DEFAULT_GRPC_PORT = 50051;
    public static final int DEFAULT_HTTP_PORT = 8080;
    // serving every interface is an explicit choice (--bind 0.0.0.0), best made with TLS on
    public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";
    public static final int DEFAULT_POOL_SIZE = 16;
    public static final Duration DEFAULT_USAGE_RETENTION = Duration.ofDays(90);

    public SchedulerConfig
    {
        requireNonNull(home, "home is null");
        requireNonNull(bindAddress, "bindAddress is null");
        requireNonNull(databaseUrl, "databaseUrl is null");
        requireNonNull(databaseUser, "databaseUser is null");
        requireNonNull(databasePassword, "databasePassword is null");
        requireNonNull(shutdownGrace, "shutdownGrace is null");
        requireNonNull(inventory, "inventory is null");
        requireNonNull(placementPolicy, "placementPolicy is null");
        requireNonNull(kubernetes, "kubernetes is null");
        requireNonNull(localWorkerCommand, "localWorkerCommand is null");
        requireNonNull(security, "security is null");
        requireNonNull(scheduling, "scheduling is null");
        requireNonNull(usageRetention, "usageRetention is null");
        if (usageRetention.compareTo(Duration.ofDays(1)) < 0 || usageRetention.compareTo(Duration.ofDays(3650)) > 0) {
            throw new IllegalArgumentException("--usage-retention must be between 1d and 3650d: got "
                    + (usageRetention.toHours() % 24 == 0 ? usageRetention.toDays() + "d" : usageRetention.toHours() + "h"));
        }
        if (kubernetes.isPresent() && localWorkerCommand.isPresent()) {
            throw new IllegalArgumentException("workers run either as pods (--kubernetes) or as local processes (--run-workers), not both");
        }
        if (kubernetes.isPresent() && inventory.isPresent()) {
            throw new IllegalArgumentException("--kubernetes takes its nodes from the cluster: leave out --local-nodes and --detect-gpus");
        }
        if (!PlacementPolicies.names().contains(placementPolicy)) {
            throw new IllegalArgumentException("--placement-policy must be one of " + String.join(", ", PlacementPolicies.names()) + ": got \"" + placementPolicy + "\"");
        }
        checkPort("--grpc-port", grpcPort);
        checkPort("--http-port", httpPort);
        if (grpcPort != 0 && grpcPort == httpPort) {
            throw new IllegalArgumentException("--grpc-port and --http-port must differ: both are " + grpcPort);
        }
        if (bindAddress.isBlank()) {
            throw new IllegalArgumentException("--bind must be an address such as 0.0.0.0 or 127.0.0.1");
        }
        databaseUrl.ifPresent(url -> {
            if (!url.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("--db-url must be a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DB): got " + redact(url));
            }
        });
        if (databaseUrl.isEmpty() && (databaseUser.isPresent() || databasePassword.isPresent())) {
            throw new IllegalArgumentException("--db-user and a database password only apply with --db-url");
        }
        if (databasePoolSize < 1 || databasePoolSize > 500) {
            throw new IllegalArgumentException("--db-pool-size must be in [1, 500]: got " + databasePoolSize);
        }
        if (shutdownGrace.isNegative() || shutdownGrace.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("shutdown grace must be between 0 and 10 minutes: got " + shutdownGrace);
        }
    }

    /** Defaults with the environment applied: TRANCHE_HOME, TRANCHE_DB_URL, TRANCHE_DB_USER, TRANCHE_DB_PASSWORD, TRANCHE_ADMIN_TOKEN. */
    public static SchedulerConfig fromEnvironment(Map<String, String> environment, Path userHome)
    {
        Path home = nonBlank(environment.get("TRANCHE_HOME")).map(Path::of).orElse(userHome.resolve(".tranche"));
        return new SchedulerConfig(
                home,
                DEFAULT_BIND_ADDRESS,
                DEFAULT_GRPC_PORT,
                DEFAULT_HTTP_PORT,
                nonBlank(environment.get("TRANCHE_DB_URL")),
                nonBlank(environment.get("TRANCHE_DB_USER")),
                nonBlank(environment.get("TRANCHE_DB_PASSWORD")),
                DEFAULT_POOL_SIZE,
                Duration.ofSeconds(10),
                Optional.empty(),
                PlacementPolicies.DEFAULT,
                Optional.empty(),
                Optional.empty(),
                SecuritySettings.defaults().withAdminToken(nonBlank(environment.get("TRANCHE_ADMIN_TOKEN"))),
                SchedulingSettings.DEFAULTS,
                DEFAULT_USAGE_RETENTION);
    }

    public SchedulerConfig withHome(Path home)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withPorts(int grpcPort, int httpPort)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withBindAddress(String bindAddress)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withDatabase(Optional<String> url, Optional<String> user, Optional<String> password)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, url, user, password, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withInventory(Optional<Inventory> inventory)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withPlacementPolicy(String placementPolicy)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withKubernetes(Optional<KubernetesSettings> kubernetes)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withLocalWorkers(Optional<List<String>> localWorkerCommand)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withDatabasePoolSize(int databasePoolSize)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes, localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withUsageRetention(Duration usageRetention)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes,
                localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withScheduling(SchedulingSettings scheduling)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes,
                localWorkerCommand, security, scheduling, usageRetention);
    }

    public SchedulerConfig withSecurity(SecuritySettings security)
    {
        return new SchedulerConfig(home, bindAddress, grpcPort, httpPort, databaseUrl, databaseUser, databasePassword, databasePoolSize, shutdownGrace, inventory, placementPolicy, kubernetes,
                localWorkerCommand, security, scheduling, usageRetention);
    }

    @Override
    public String toString()
    {
        return "SchedulerConfig[home=" + home + ", bind=" + bindAddress + ", grpcPort=" + grpcPort + ", httpPort=" + httpPort
                + ", database=" + databaseUrl.map(SchedulerConfig::redact).orElse("embedded") + ", user=" + databaseUser.orElse("-")
                + ", password=" + (databasePassword.isPresent() ? "(set)" : "-") + ", poolSize=" + databasePoolSize
                + ", inventory=" + inventory.map(Object::toString).orElse("none") + ", placementPolicy=" + placementPolicy
                + ", kubernetes=" + kubernetes.map(Object::toString).orElse("off") + ", security=" + security + "]";
    }

    /**
     * How to start one worker here: the {@code tranche} launcher this process was started with (it
     * sets {@code tranche.launcher}), running its {@code worker} command.
     */
    public static List<String> launcherWorkerCommand()
    {
        String launcher = System.getProperty("tranche.launcher");
        if (launcher == null || launcher.isBlank()) {
            throw new IllegalArgumentException("--run-workers needs the tranche launcher (start the scheduler with ./tranche server)");
        }
        return List.of(launcher, "worker");
    }

    /** A JDBC URL with any password parameter hidden, for messages and logs. */
    static String redact(String url)
    {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }

    private static void checkPort(String flag, int port)
    {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(flag + " must be in [0, 65535]: got " + port);
        }
    }

    private static Optional<String> nonBlank(String value)
    {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }
}
