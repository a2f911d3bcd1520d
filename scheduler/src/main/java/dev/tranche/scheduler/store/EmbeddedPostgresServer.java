package dev.tranche.scheduler.store;

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

    private final EmbeddedPostgres postgres;
    private final Path dataDirectory;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, Path dataDirectory)
    {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
    }

    /**
     * Starts PostgreSQL on {@code dataDirectory}, creating it on first use. A server left running by a
     * scheduler that was killed (kill -9 leaves its postmaster behind) is stopped first; the caller
     * must hold the lock that makes it the only scheduler using this directory.
     */
    public static EmbeddedPostgresServer start(Path dataDirectory, Path logFile)
    {
        requireNonNull(dataDirectory, "dataDirectory is null");
        try {
            Files.createDirectories(dataDirectory);
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            stopOrphan(dataDirectory);
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
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
            return new EmbeddedPostgresServer(postgres, dataDirectory);
        }
        catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL in " + dataDirectory + " (its log: " + logFile + ")", e);
        }
    }

    public String jdbcUrl()
    {
        return postgres.getJdbcUrl("postgres", "postgres");
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

    private static void stopOrphan(Path dataDirectory)
            throws IOException
    {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).strip());
        }
        catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty() || !process.get().isAlive() || !process.get().info().command().orElse("").contains("postgres")) {
            return;
        }
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
