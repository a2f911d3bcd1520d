package dev.tranche.scheduler.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The embedded PostgreSQL lets in only who knows a password, and Tranche itself only as a plain role. */
class EmbeddedPostgresSecurityTest
{
    @TempDir
    Path home;

    @Test
    void everyConnectionNeedsThePasswordAndTheApplicationRoleIsNoSuperuser()
            throws Exception
    {
        try (EmbeddedPostgresServer server = start()) {
            String url = "jdbc:postgresql://127.0.0.1:" + server.port() + "/postgres";
            // what `psql -h 127.0.0.1 -U postgres` did before: no password at all
            assertThatThrownBy(() -> connect(url, "postgres", null)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("password");
            assertThatThrownBy(() -> connect(url, "postgres", "not-the-password")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("password authentication failed");
            assertThatThrownBy(() -> connect(server.jdbcUrl(), "tranche", null)).isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> connect(server.jdbcUrl().replace("localhost", "[::1]"), "postgres", null)).isInstanceOf(SQLException.class);

            try (Connection connection = connect(server.jdbcUrl(), "tranche", server.applicationPassword());
                    Statement statement = connection.createStatement()) {
                assertThat(single(statement, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user")).isEqualTo("false");
                assertThat(single(statement, "SELECT current_database()")).isEqualTo("tranche");
                statement.execute("CREATE TABLE mine (x int)");
                assertThatThrownBy(() -> statement.execute("COPY (SELECT 1) TO PROGRAM 'id'")).isInstanceOf(SQLException.class)
                        .hasMessageContaining("must be superuser");
                assertThatThrownBy(() -> statement.execute("CREATE DATABASE other")).isInstanceOf(SQLException.class)
                        .hasMessageContaining("permission denied");
                assertThatThrownBy(() -> statement.execute("SELECT pg_read_file('PG_VERSION')")).isInstanceOf(SQLException.class)
                        .hasMessageContaining("permission denied");
            }
            // no Unix socket in a shared directory
            assertThat(Path.of("/tmp/.s.PGSQL." + server.port())).doesNotExist();
            Path secrets = home.resolve("secrets").resolve("postgres");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets.getParent()))).isEqualTo("rwx------");
            assertThat(Files.readString(secrets)).contains(server.applicationPassword());
            assertThat(home.resolve("secrets").resolve("postgres.initdb")).doesNotExist();
        }
    }

    @Test
    void restartsOnItsDataWithTheSamePasswords()
            throws Exception
    {
        String password;
        try (EmbeddedPostgresServer server = start();
                Connection connection = connect(server.jdbcUrl(), "tranche", server.applicationPassword());
                Statement statement = connection.createStatement()) {
            password = server.applicationPassword();
            statement.execute("CREATE TABLE kept (x int)");
            statement.execute("INSERT INTO kept VALUES (7)");
        }
        try (EmbeddedPostgresServer server = start();
                Connection connection = connect(server.jdbcUrl(), "tranche", server.applicationPassword());
                Statement statement = connection.createStatement()) {
            assertThat(server.applicationPassword()).isEqualTo(password);
            assertThat(single(statement, "SELECT x::text FROM kept")).isEqualTo("7");
        }
    }

    @Test
    void convertsADataDirectoryOfAnEarlierVersionThatTrustedEveryone()
            throws Exception
    {
        // what earlier versions made: trust authentication, Tranche's tables in "postgres", owned by the superuser
        try (EmbeddedPostgres earlier = EmbeddedPostgres.builder().setDataDirectory(home.resolve("postgres")).setCleanDataDirectory(false)
                .setServerConfig("listen_addresses", "localhost").start();
                Connection connection = earlier.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE flyway_schema_history (version text)");
            statement.execute("CREATE TABLE experiments (id text PRIMARY KEY, n bigserial)");
            statement.execute("INSERT INTO experiments (id) VALUES ('exp-kept')");
            statement.execute("CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42'");
        }
        try (EmbeddedPostgresServer server = start()) {
            assertThatThrownBy(() -> connect("jdbc:postgresql://127.0.0.1:" + server.port() + "/postgres", "postgres", null)).isInstanceOf(SQLException.class);
            try (Connection connection = connect(server.jdbcUrl(), "tranche", server.applicationPassword());
                    Statement statement = connection.createStatement()) {
                assertThat(single(statement, "SELECT id FROM experiments")).isEqualTo("exp-kept");
                statement.execute("INSERT INTO experiments (id) VALUES ('exp-new')");
                statement.execute("ALTER TABLE experiments ADD COLUMN note text");
                assertThat(single(statement, "SELECT answer()::text")).isEqualTo("42");
            }
        }
    }

    private EmbeddedPostgresServer start()
    {
        return EmbeddedPostgresServer.start(home.resolve("postgres"), home.resolve("secrets").resolve("postgres"), home.resolve("logs").resolve("postgres.log"));
    }

    private static Connection connect(String url, String user, String password)
            throws SQLException
    {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        if (password != null) {
            properties.setProperty("password", password);
        }
        properties.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(url, properties);
    }

    private static String single(Statement statement, String query)
            throws SQLException
    {
        try (ResultSet row = statement.executeQuery(query)) {
            assertThat(row.next()).isTrue();
            return row.getString(1);
        }
    }
}
