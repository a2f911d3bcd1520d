package dev.tranche.scheduler.store;

import dev.tranche.scheduler.process.ProcessTable;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static java.util.Objects.requireNonNull;

/**
 * A real PostgreSQL server started from the binaries in the zonky artifact, keeping its data in a
 * directory that survives restarts. Durability is on (fsync and synchronous commit), unlike the
 * library's test defaults, because the scheduler acknowledges a submission only once it is committed.
 *
 * <p>It trusts nobody: every connection, local or not, must give a password (SCRAM), the server listens
 * on loopback only and opens no Unix socket, and Tranche connects as {@value #APPLICATION_ROLE}, a role
 * that owns Tranche's database and nothing else (no superuser, so no {@code COPY ... TO PROGRAM}). The
 * passwords live in {@link EmbeddedPostgresSecrets}' file. A data directory made by an earlier version,
 * which trusted local connections and kept Tranche's tables in the {@code postgres} database, is
 * converted on its first start.
 */
public final class EmbeddedPostgresServer
        implements AutoCloseable
{
    public static final String APPLICATION_ROLE = "tranche";
    public static final String APPLICATION_DATABASE = "tranche";
    private static final String SUPERUSER = "postgres";
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);
    static final String HBA = """
            # Written by Tranche on every start: password (SCRAM) authentication for every connection.
            local all all scram-sha-256
            host all all 127.0.0.1/32 scram-sha-256
            host all all ::1/128 scram-sha-256
            """;

    private static final String JDBC_FORMAT = "jdbc:postgresql://localhost:%d/" + APPLICATION_DATABASE;

    private static final Duration OLD_PROCESSES_EXIT = Duration.ofSeconds(10);

    private final EmbeddedPostgres postgres;
    private final Path dataDirectory;
    private final Path secretsFile;
    private final Path logFile;
    private final EmbeddedPostgresSecrets secrets;
    // the session pg_ctl started the postmaster in (it calls setsid): every process of this server
    private final OptionalLong session;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, Path dataDirectory, Path secretsFile, Path logFile, EmbeddedPostgresSecrets secrets)
    {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
        this.secretsFile = secretsFile;
        this.logFile = logFile;
        this.secrets = secrets;
        this.session = postmaster(dataDirectory)
                .flatMap(process -> ProcessTable.entry(process.pid()))
                .filter(entry -> entry.session() == entry.pid())
                .map(entry -> OptionalLong.of(entry.pid()))
                .orElse(OptionalLong.empty());
    }

    /**
     * Starts PostgreSQL on {@code dataDirectory}, creating it on first use with the passwords kept in
     * {@code secretsFile}. A server left running by a scheduler that was killed (kill -9 leaves its
     * postmaster behind) is stopped first; the caller must hold the lock that makes it the only
     * scheduler using this directory.
     */
    public static EmbeddedPostgresServer start(Path dataDirectory, Path secretsFile, Path logFile)
    {
        return start(dataDirectory, secretsFile, logFile, 0);
    }

    /**
     * The same server started again after it died (killed, crashed), on the same directory and port,
     * so that connection pools reconnect to the URL they have. PostgreSQL recovers from its log.
     */
    public EmbeddedPostgresServer restart(BooleanSupplier cancelled)
    {
        // releases the library's lock on the directory; its "stop" finds no server and says so in the log
        close();
        awaitOldProcesses();
        // a scheduler stopping meanwhile must not be left with a server it no longer knows of
        if (cancelled.getAsBoolean()) {
            throw new IllegalStateException("not restarted: the scheduler is stopping");
        }
        return start(dataDirectory, secretsFile, logFile, port());
    }

    /**
     * A killed postmaster's other processes notice and exit within moments; until they have, they
     * hold its shared memory and a new server on the directory refuses to start. Any still there
     * after a while are killed: their postmaster is gone, so they can only be waiting to die.
     */
    private void awaitOldProcesses()
    {
        if (session.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + OLD_PROCESSES_EXIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (ProcessTable.read().session(session.getAsLong()).isEmpty()) {
                return;
            }
            try {
                Thread.sleep(50);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        List<ProcessTable.Entry> left = ProcessTable.read().session(session.getAsLong());
        log.warn("{} processes of the dead PostgreSQL are still running after {} s; killing them", left.size(), OLD_PROCESSES_EXIT.toSeconds());
        left.forEach(entry -> ProcessHandle.of(entry.pid()).ifPresent(ProcessHandle::destroyForcibly));
    }

    /** The postmaster, while it runs: read from PostgreSQL's own postmaster.pid. */
    public Optional<ProcessHandle> postmaster()
    {
        return postmaster(dataDirectory);
    }

    /**
     * How to reach the PostgreSQL that a running scheduler started on {@code dataDirectory}, for
     * commands run beside it ({@code tranche admin reset-token}), as {@link #APPLICATION_ROLE} with the
     * password in the home's secrets file; empty if none runs there.
     */
    public static Optional<String> jdbcUrlOfRunning(Path dataDirectory)
    {
        Optional<ProcessHandle> postmaster = postmaster(dataDirectory);
        if (postmaster.isEmpty()) {
            return Optional.empty();
        }
        try {
            // postmaster.pid: pid, data directory, start time, port, ...
            List<String> lines = Files.readAllLines(dataDirectory.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return lines.size() < 4 ? Optional.empty() : Optional.of(JDBC_FORMAT.formatted(Integer.parseInt(lines.get(3).strip())));
        }
        catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static EmbeddedPostgresServer start(Path dataDirectory, Path secretsFile, Path logFile, int port)
    {
        requireNonNull(dataDirectory, "dataDirectory is null");
        EmbeddedPostgresSecrets secrets = EmbeddedPostgresSecrets.loadOrCreate(secretsFile);
        Path passwordFile = secretsFile.toAbsolutePath().resolveSibling(secretsFile.getFileName() + ".initdb");
        try {
            Files.createDirectories(dataDirectory.toAbsolutePath().getParent());
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            stopOrphan(dataDirectory);
            boolean fresh = !Files.exists(dataDirectory.resolve("PG_VERSION"));
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
            if (port != 0) {
                builder.setPort(port);
            }
            builder
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false)
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("listen_addresses", "localhost")
                    // no Unix socket: it would sit in a shared directory such as /tmp
                    .setServerConfig("unix_socket_directories", "")
                    .setServerConfig("password_encryption", "scram-sha-256")
                    // the library's own readiness check connects as the superuser
                    .setConnectConfig("password", secrets.superuserPassword())
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            if (fresh) {
                // initdb's own options win over the library's "-A trust": a password from the first moment
                Files.deleteIfExists(passwordFile);
                Files.createFile(passwordFile, PosixFilePermissions.asFileAttribute(EmbeddedPostgresSecrets.OWNER_ONLY_FILE));
                Files.writeString(passwordFile, secrets.superuserPassword() + "\n", StandardCharsets.UTF_8);
                builder.setLocaleConfig("auth", "scram-sha-256").setLocaleConfig("pwfile", passwordFile.toString());
            }
            EmbeddedPostgres postgres;
            try {
                postgres = builder.start();
            }
            finally {
                Files.deleteIfExists(passwordFile);
            }
            try {
                secure(postgres, dataDirectory, secrets);
            }
            catch (SQLException | IOException | RuntimeException e) {
                postgres.close();
                throw new IllegalStateException("could not secure the embedded PostgreSQL in " + dataDirectory + ": " + e.getMessage(), e);
            }
            return new EmbeddedPostgresServer(postgres, dataDirectory, secretsFile, logFile, secrets);
        }
        catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL in " + dataDirectory + " (its log: " + logFile + ")", e);
        }
    }

    /** Tranche's database, to be opened as {@link #APPLICATION_ROLE} with {@link #applicationPassword()}. */
    public String jdbcUrl()
    {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/" + APPLICATION_DATABASE;
    }

    public String applicationPassword()
    {
        return secrets.applicationPassword();
    }

    /** A superuser's connection to {@code database}: maintenance, and tests that create databases. */
    public Connection superuserConnection(String database)
            throws SQLException
    {
        return postgres.getDatabase(SUPERUSER, database).getConnection();
    }

    /** A superuser's JDBC URL of {@code database}, password included: for tests only (it is a secret). */
    public String superuserJdbcUrl(String database)
    {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/" + database + "?user=" + SUPERUSER + "&password=" + secrets.superuserPassword();
    }

    public int port()
    {
        return postgres.getPort();
    }

    public Path dataDirectory()
    {
        return dataDirectory;
    }

    @Override
    public void close()
    {
        try {
            postgres.close();
        }
        catch (IOException e) {
            log.warn("could not stop the embedded PostgreSQL cleanly: {}", e.getMessage());
        }
    }

    /**
     * Makes sure of what {@link EmbeddedPostgresServer} promises on every start, so a data directory
     * from an earlier version (or one whose pg_hba.conf was edited) ends up the same as a new one.
     */
    private static void secure(EmbeddedPostgres postgres, Path dataDirectory, EmbeddedPostgresSecrets secrets)
            throws SQLException, IOException
    {
        boolean earlierLayout = false;
        try (Connection connection = postgres.getDatabase(SUPERUSER, "postgres").getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("ALTER ROLE " + SUPERUSER + " PASSWORD '" + secrets.superuserPassword() + "'");
            String grants = " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '" + secrets.applicationPassword() + "'";
            statement.execute(exists(statement, "SELECT 1 FROM pg_roles WHERE rolname = '" + APPLICATION_ROLE + "'")
                    ? "ALTER ROLE " + APPLICATION_ROLE + " WITH" + grants
                    : "CREATE ROLE " + APPLICATION_ROLE + grants);
            if (!exists(statement, "SELECT 1 FROM pg_database WHERE datname = '" + APPLICATION_DATABASE + "'")) {
                earlierLayout = exists(statement, "SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'flyway_schema_history'");
                if (!earlierLayout) {
                    statement.execute("CREATE DATABASE " + APPLICATION_DATABASE + " OWNER " + APPLICATION_ROLE);
                }
            }
        }
        if (earlierLayout) {
            adoptEarlierLayout(postgres);
        }
        try (Connection connection = postgres.getDatabase(SUPERUSER, APPLICATION_DATABASE).getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("ALTER DATABASE " + APPLICATION_DATABASE + " OWNER TO " + APPLICATION_ROLE);
            statement.execute("REVOKE ALL ON DATABASE " + APPLICATION_DATABASE + " FROM PUBLIC");
            statement.execute("ALTER SCHEMA public OWNER TO " + APPLICATION_ROLE);
        }
        Path hba = dataDirectory.resolve("pg_hba.conf");
        if (!Files.exists(hba) || !Files.readString(hba, StandardCharsets.UTF_8).equals(HBA)) {
            Files.writeString(hba, HBA, StandardCharsets.UTF_8);
            try (Connection connection = postgres.getDatabase(SUPERUSER, "postgres").getConnection();
                    Statement statement = connection.createStatement()) {
                statement.execute("SELECT pg_reload_conf()");
            }
        }
    }

    /**
     * Earlier versions kept Tranche's tables in the {@code postgres} database, owned by the superuser:
     * that database becomes {@value #APPLICATION_DATABASE}, owned with everything in it by the
     * application role, and a new empty {@code postgres} database takes its place.
     */
    private static void adoptEarlierLayout(EmbeddedPostgres postgres)
            throws SQLException
    {
        log.info("moving Tranche's tables from database postgres to {}, owned by role {}", APPLICATION_DATABASE, APPLICATION_ROLE);
        try (Connection connection = postgres.getDatabase(SUPERUSER, "template1").getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("ALTER DATABASE postgres RENAME TO " + APPLICATION_DATABASE);
            statement.execute("CREATE DATABASE postgres");
        }
        try (Connection connection = postgres.getDatabase(SUPERUSER, APPLICATION_DATABASE).getConnection();
                Statement statement = connection.createStatement()) {
            List<String> changes = new ArrayList<>();
            try (ResultSet row = statement.executeQuery("SELECT format('ALTER TABLE public.%I OWNER TO " + APPLICATION_ROLE + "', tablename) FROM pg_tables WHERE schemaname = 'public'"
                    + " UNION ALL SELECT format('ALTER SEQUENCE public.%I OWNER TO " + APPLICATION_ROLE + "', sequencename) FROM pg_sequences WHERE schemaname = 'public'"
                    + " UNION ALL SELECT format('ALTER FUNCTION public.%I(%s) OWNER TO " + APPLICATION_ROLE + "', p.proname, pg_get_function_identity_arguments(p.oid))"
                    + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'")) {
                while (row.next()) {
                    changes.add(row.getString(1));
                }
            }
            for (String change : changes) {
                statement.execute(change);
            }
        }
    }

    private static boolean exists(Statement statement, String query)
            throws SQLException
    {
        try (ResultSet row = statement.executeQuery(query)) {
            return row.next();
        }
    }

    private static Optional<ProcessHandle> postmaster(Path dataDirectory)
    {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        try {
            List<String> lines = Files.exists(pidFile) ? Files.readAllLines(pidFile, StandardCharsets.UTF_8) : List.of();
            if (lines.isEmpty()) {
                return Optional.empty();
            }
            return ProcessHandle.of(Long.parseLong(lines.get(0).strip()))
                    .filter(ProcessHandle::isAlive)
                    .filter(process -> process.info().command().orElse("").contains("postgres"));
        }
        catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static void stopOrphan(Path dataDirectory)
            throws IOException
    {
        Optional<ProcessHandle> process = postmaster(dataDirectory);
        if (process.isEmpty()) {
            return;
        }
        long pid = process.get().pid();
        log.info("stopping PostgreSQL (pid {}) left running on {} by an earlier scheduler", pid, dataDirectory);
        // SIGTERM is PostgreSQL's "smart" shutdown: its clients died with the old scheduler, so it exits at once
        process.get().destroy();
        try {
            process.get().onExit().get(30, TimeUnit.SECONDS);
        }
        catch (Exception e) {
            log.warn("PostgreSQL pid {} did not stop in 30 s; killing it (it recovers from its log on start)", pid);
            process.get().destroyForcibly();
            try {
                process.get().onExit().get(10, TimeUnit.SECONDS);
            }
            catch (Exception ignored) {
                throw new IOException("could not stop the PostgreSQL server (pid " + pid + ") that holds " + dataDirectory);
            }
        }
    }
}
