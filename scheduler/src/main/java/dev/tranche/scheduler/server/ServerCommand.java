package dev.tranche.scheduler.server;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "server", description = {
        "Run the Tranche scheduler: gRPC API, HTTP health and dashboard.",
        "With no --db-url it starts an embedded PostgreSQL whose data lives under --home."})
public final class ServerCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "State directory (default: $TRANCHE_HOME, else ~/.tranche).")
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
            return config;
        }
        catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
