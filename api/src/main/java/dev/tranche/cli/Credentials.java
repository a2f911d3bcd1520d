package dev.tranche.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * What {@code tranche login} remembers: the scheduler, its token, whether it serves TLS and its CA
 * certificate, in a file only its owner can read. The token is only ever sent to the scheduler it
 * was stored for.
 */
public record Credentials(String server, String token, boolean tls, Optional<String> caCertificate)
{
    public Credentials
    {
        requireNonNull(server, "server is null");
        requireNonNull(token, "token is null");
        requireNonNull(caCertificate, "caCertificate is null");
    }

    /** ${XDG_CONFIG_HOME:-~/.config}/tranche/credentials */
    public static Path defaultFile(Map<String, String> environment)
    {
        String config = environment.get("XDG_CONFIG_HOME");
        Path base = config == null || config.isBlank() ? Path.of(System.getProperty("user.home"), ".config") : Path.of(config);
        return base.resolve("tranche").resolve("credentials");
    }

    /** The file a --credentials flag names, else the default one. */
    public static Path file(Path flag, Map<String, String> environment)
    {
        return flag != null ? flag : defaultFile(environment);
    }

    public static Optional<Credentials> read(Path file)
    {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot read " + file + " (written by tranche login): " + e.getMessage() + "; run tranche login again");
        }
        String server = properties.getProperty("server", "");
        String token = properties.getProperty("token", "");
        if (server.isBlank() || token.isBlank()) {
            throw new IllegalArgumentException(file + " lacks a server or token; run tranche login again");
        }
        Optional<String> caCertificate = Optional.ofNullable(properties.getProperty("ca_cert")).filter(value -> !value.isBlank());
        boolean tls = Boolean.parseBoolean(properties.getProperty("tls", "false")) || caCertificate.isPresent();
        return Optional.of(new Credentials(server, token, tls, caCertificate));
    }

    /** Written to a temporary file readable by the owner alone, then moved into place. */
    public void write(Path file)
    {
        Properties properties = new Properties();
        properties.setProperty("server", server);
        properties.setProperty("token", token);
        if (tls || caCertificate.isPresent()) {
            properties.setProperty("tls", "true");
        }
        caCertificate.ifPresent(path -> properties.setProperty("ca_cert", path));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), ".credentials-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (Writer writer = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
                properties.store(writer, "tranche login: keep this file private");
            }
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString()
    {
        return "Credentials[" + server + ", token=(set), tls=" + (tls ? caCertificate.orElse("system CAs") : "off") + "]";
    }
}
