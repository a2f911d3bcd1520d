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
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * A real PostgreSQL server started from the binaries in the zonky artifact, keeping its data in a
 * directory that survives restarts. Durability is on (fsync and synchronous commit), unlike the
 * library's test defaults, because the scheduler acknowledges a submission only once it is committed.
 */
public final class EmbeddedPostgresServer
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    private static final String JDBC_FORMAT = "jdbc:postgresql://localhost:%d/postgres?user=postgres";

    private static final Duration OLD_PROCESSES_EXIT = Duration.ofSeconds(10);

    private final EmbeddedPostgres postgres;
    private final Path dataDirectory;
    private final Path logFile;
    // the session pg_ctl started the postmaster in (it calls setsid): every process of this server
    private final OptionalLong session;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, Path dataDirectory, Path logFile)
    {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
        this.logFile = logFile;
        this.session = postmaster(dataDirectory)
                .flatMap(process -> ProcessTable.entry(process.pid()))
                .filter(entry -> entry.session() == entry.pid())
                .map(entry -> OptionalLong.of(entry.pid()))
                .orElse(OptionalLong.empty());
    }

    /**
     * Starts PostgreSQL on {@code dataDirectory}, creating it on first use. A server left running by a
     * scheduler that was killed (kill -9 leaves its postmaster behind) is stopped first; the caller
     * must hold the lock that makes it the only scheduler using this directory.
     */
    public static EmbeddedPostgresServer start(Path dataDirectory, Path logFile)
    {
        return start(dataDirectory, logFile, 0);
    }

    /**
     * The same server started again after it died (killed, crashed), on the same directory and port,
     * so that connection pools reconnect to the URL they have. PostgreSQL recovers from its log.
     */
    public EmbeddedPostgresServer restart()
    {
        // releases the library's lock on the directory; its "stop" finds no server and says so in the log
        close();
        awaitOldProcesses();
        return start(dataDirectory, logFile, port());
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
     * commands run beside it ({@code tranche admin reset-token}); empty if none runs there.
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

    private static EmbeddedPostgresServer start(Path dataDirectory, Path logFile, int port)
    {
        requireNonNull(dataDirectory, "dataDirectory is null");
        try {
            Files.createDirectories(dataDirectory);
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            stopOrphan(dataDirectory);
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
            if (port != 0) {
                builder.setPort(port);
            }
            EmbeddedPostgres postgres = builder
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false)
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("listen_addresses", "localhost")
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            return new EmbeddedPostgresServer(postgres, dataDirectory, logFile);
        }
        catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL in " + dataDirectory + " (its log: " + logFile + ")", e);
        }
    }

    public String jdbcUrl()
    {
        return JDBC_FORMAT.formatted(postgres.getPort());
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
