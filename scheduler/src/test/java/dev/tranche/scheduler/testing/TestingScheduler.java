package dev.tranche.scheduler.testing;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.security.SecuritySettings;
import dev.tranche.scheduler.inventory.Inventory;
import dev.tranche.scheduler.server.SchedulerConfig;
import dev.tranche.scheduler.server.SchedulerServer;
import dev.tranche.files.TempDirectories;

import javax.sql.DataSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A real scheduler for tests: real gRPC on a loopback port, real PostgreSQL (a fresh database on the
 * shared test server), built by the same composition root as production.
 */
public final class TestingScheduler
        implements AutoCloseable
{
    /** The admin token every testing scheduler is started with (as if from TRANCHE_ADMIN_TOKEN). */
    public static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789";

    private final SchedulerServer server;
    private final String jdbcUrl;
    private final TrancheClient client;
    private final Optional<SecuritySettings.TlsFiles> tls;
    private final Path home;

    public TestingScheduler()
    {
        this(Optional.empty());
    }

    /** With a declared inventory; its scheduling loop runs on its own timer as in production. */
    public TestingScheduler(Optional<? extends Inventory> inventory)
    {
        this(inventory, Optional.empty(), Optional.empty(), UnaryOperator.identity(), Clock.systemUTC());
    }

    /** With a declared inventory and the clock tokens expire by: a test moves it (see {@link AdjustableClock}) rather than sleeping. */
    public static TestingScheduler withClock(Optional<? extends Inventory> inventory, Clock clock)
    {
        return new TestingScheduler(inventory, Optional.empty(), Optional.empty(), UnaryOperator.identity(), clock);
    }

    /** With security settings changed from the tests' defaults (which turn the rate limits off). */
    public static TestingScheduler withSecurity(UnaryOperator<SecuritySettings> change)
    {
        return new TestingScheduler(Optional.empty(), Optional.empty(), Optional.empty(), change, Clock.systemUTC());
    }

    /** Serving gRPC and HTTP over TLS with this certificate and key; its clients trust the certificate. */
    public static TestingScheduler withTls(SecuritySettings.TlsFiles tls)
    {
        return new TestingScheduler(Optional.empty(), Optional.of(tls), Optional.empty(), UnaryOperator.identity(), Clock.systemUTC());
    }

    /** Serving TLS, running the workers of placed experiments on this machine with {@code workerCommand} (as --run-workers does). */
    public static TestingScheduler withTlsAndLocalWorkers(SecuritySettings.TlsFiles tls, Inventory inventory, List<String> workerCommand)
    {
        return new TestingScheduler(Optional.of(inventory), Optional.of(tls), Optional.of(workerCommand), UnaryOperator.identity(), Clock.systemUTC());
    }

    private TestingScheduler(Optional<? extends Inventory> inventory, Optional<SecuritySettings.TlsFiles> tls, Optional<List<String>> localWorkers,
            UnaryOperator<SecuritySettings> security, Clock clock)
    {
        this.tls = tls;
        this.jdbcUrl = TestingPostgres.newDatabase();
        try {
            this.home = Files.createTempDirectory("tranche-test-home-");
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SchedulerConfig config = SchedulerConfig.fromEnvironment(Map.of(), home)
                .withHome(home)
                .withBindAddress("127.0.0.1")
                .withPorts(0, 0)
                .withDatabase(Optional.of(jdbcUrl), Optional.empty(), Optional.empty())
                .withDatabasePoolSize(8)
                .withInventory(inventory.map(Inventory.class::cast))
                .withLocalWorkers(localWorkers)
                .withSecurity(security.apply(SecuritySettings.defaults().withAdminToken(Optional.of(ADMIN_TOKEN)).withRateLimit(0).withFailedAuthenticationLimit(0)
                        .withTls(tls)));
        this.server = SchedulerServer.start(config, clock);
        this.client = client(ADMIN_TOKEN);
    }

    /** A new client sending {@code token} (over TLS trusting the scheduler's certificate, if it serves TLS); the caller closes it. */
    public TrancheClient client(String token)
    {
        return TrancheClient.connect(new ConnectionSettings(target(), Optional.of(token), tls.isPresent(), tls.map(SecuritySettings.TlsFiles::certificateChain)));
    }

    /** A new token of this role for these projects (an admin's tokens take no projects). */
    public String token(Role role, String... projects)
    {
        return server.issueToken("test-" + role.name().toLowerCase(java.util.Locale.ROOT), role, List.of(projects)).secret();
    }

    public String target()
    {
        return "127.0.0.1:" + server.grpcPort();
    }

    public int httpPort()
    {
        return server.httpPort();
    }

    /** The server's home directory (its state beside the database). */
    public Path home()
    {
        return home;
    }

    public SchedulerServer server()
    {
        return server;
    }

    public TrancheClient client()
    {
        return client;
    }

    public String jdbcUrl()
    {
        return jdbcUrl;
    }

    /** A number from the database, for checking what is (or is not) stored. */
    public long count(String sql)
    {
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getLong(1);
        }
        catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    public DataSource dataSource()
    {
        org.postgresql.ds.PGSimpleDataSource dataSource = new org.postgresql.ds.PGSimpleDataSource();
        dataSource.setURL(jdbcUrl);
        return dataSource;
    }

    @Override
    public void close()
    {
        client.close();
        server.close();
        TempDirectories.deleteTree(home);
    }
}
