package dev.tranche.cli;

import dev.tranche.client.ConnectionSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

final class CredentialsTest
{
    @TempDir
    Path directory;

    @Test
    void roundTripsOwnerOnlyWithTls()
            throws IOException
    {
        Path file = directory.resolve("config").resolve("credentials");
        new Credentials("scheduler.example:443", "secret-0123456789", true, Optional.empty()).write(file);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Credentials.read(file)).contains(new Credentials("scheduler.example:443", "secret-0123456789", true, Optional.empty()));
        assertThat(new Credentials("a:1", "secret-0123456789", true, Optional.empty()).toString()).doesNotContain("secret-0123456789").contains("token=(set)");
    }

    @Test
    void aFileWithoutTlsIsPlaintextUnlessItNamesACa()
            throws IOException
    {
        Path plain = directory.resolve("plain");
        Files.writeString(plain, "server=localhost\\:50051\ntoken=abc\n");
        assertThat(Credentials.read(plain).orElseThrow().tls()).isFalse();
        Path withCa = directory.resolve("with-ca");
        Files.writeString(withCa, "server=localhost\\:50051\ntoken=abc\nca_cert=/etc/ca.pem\n");
        assertThat(Credentials.read(withCa).orElseThrow().tls()).isTrue();
    }

    @Test
    void clientOptionsUseTheStoredTlsOnlyForTheStoredServer()
    {
        Path file = directory.resolve("credentials");
        new Credentials("scheduler.example:443", "secret-0123456789", true, Optional.empty()).write(file);
        ClientOptions options = new ClientOptions(Map.of());
        options.credentialsFile = file;
        ConnectionSettings stored = options.connection();
        assertThat(stored.target()).isEqualTo("scheduler.example:443");
        assertThat(stored.tls()).isTrue();
        assertThat(stored.token()).contains("secret-0123456789");

        options.server = "other.example:443";
        ConnectionSettings other = options.connection();
        assertThat(other.tls()).isFalse();
        assertThat(other.token()).isEmpty();
    }
}
