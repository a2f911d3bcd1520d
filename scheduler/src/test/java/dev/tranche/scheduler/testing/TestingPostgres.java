package dev.tranche.scheduler.testing;

import dev.tranche.scheduler.store.EmbeddedPostgresServer;
import dev.tranche.files.TempDirectories;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL server for the whole test JVM (starting one takes a second or two); each test
 * class gets a fresh database of its own on it, so tests never see each other's rows.
 */
public final class TestingPostgres
{
    private static EmbeddedPostgresServer server;
    private static final AtomicInteger databases = new AtomicInteger();

    private TestingPostgres() {}

    public static synchronized EmbeddedPostgresServer server()
    {
        if (server == null) {
            Path directory;
            try {
                directory = Files.createTempDirectory("tranche-test-pg-");
            }
            catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            EmbeddedPostgresServer started = EmbeddedPostgresServer.start(directory.resolve("data"), directory.resolve("secrets").resolve("postgres"),
                    directory.resolve("postgres.log"));
            // the databases of a whole run take most of a gigabyte: gone with the JVM
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                started.close();
                TempDirectories.deleteTree(directory);
            }));
            server = started;
        }
        return server;
    }

    /** A new, empty database; returns its JDBC URL. */
    public static String newDatabase()
    {
        String name = "test_" + ProcessHandle.current().pid() + "_" + databases.incrementAndGet();
        try (Connection connection = server().superuserConnection("postgres");
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        }
        catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name, e);
        }
        return server().superuserJdbcUrl(name);
    }
}
