package dev.tranche.cli;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** Options every command that talks to a scheduler shares: where it is, the token, TLS, output. */
public final class ClientOptions
{
    @Option(names = "--server", paramLabel = "HOST:PORT",
            description = "Scheduler address (default: $TRANCHE_SERVER, else the one `tranche login` stored, else " + TrancheClient.DEFAULT_SERVER + ").")
    String server;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "Read the token from FILE (default: $TRANCHE_TOKEN, else the one `tranche login` stored for this server).")
    Path tokenFile;

    @Option(names = "--tls", description = "Use TLS, trusting the system's CAs (default: $TRANCHE_TLS=1, or as `tranche login` stored it; implied by --ca-cert).")
    boolean tls;

    @Option(names = "--ca-cert", paramLabel = "FILE", description = "Use TLS, trusting this PEM CA certificate (default: $TRANCHE_CA_CERT).")
    Path caCertificate;

    @Option(names = "--credentials", paramLabel = "FILE", hidden = true,
            description = "Where `tranche login` keeps the token (default: ~/.config/tranche/credentials).")
    Path credentialsFile;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    OutputFormat output = OutputFormat.table;

    private final Map<String, String> environment;

    public ClientOptions()
    {
        this(System.getenv());
    }

    ClientOptions(Map<String, String> environment)
    {
        this.environment = environment;
    }

    public String server()
    {
        if (server != null && !server.isBlank()) {
            return server;
        }
        String fromEnvironment = environment.get("TRANCHE_SERVER");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment;
        }
        return stored().map(Credentials::server).orElse(TrancheClient.DEFAULT_SERVER);
    }

    public OutputFormat output()
    {
        return output;
    }

    public Path credentialsFile()
    {
        return credentialsFile != null ? credentialsFile : Credentials.defaultFile(environment);
    }

    /** The connection the flags, the environment and the stored login describe. */
    public ConnectionSettings connection()
    {
        String target = server();
        Optional<Credentials> stored = stored().filter(credentials -> credentials.server().equals(target));
        Optional<String> token = token(stored);
        Optional<Path> ca = Optional.ofNullable(caCertificate)
                .or(() -> nonBlank(environment.get("TRANCHE_CA_CERT")).map(Path::of))
                .or(() -> stored.flatMap(Credentials::caCertificate).map(Path::of));
        boolean useTls = tls || "1".equals(environment.get("TRANCHE_TLS")) || "true".equalsIgnoreCase(environment.getOrDefault("TRANCHE_TLS", ""))
                || stored.map(Credentials::tls).orElse(false);
        return new ConnectionSettings(target, token, useTls, ca);
    }

    public TrancheClient connect()
    {
        return TrancheClient.connect(connection());
    }

    private Optional<String> token(Optional<Credentials> stored)
    {
        if (tokenFile != null) {
            try {
                String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
                if (token.isEmpty()) {
                    throw new IllegalArgumentException("--token-file " + tokenFile + " is empty");
                }
                return Optional.of(token);
            }
            catch (IOException e) {
                throw new UncheckedIOException("cannot read --token-file " + tokenFile + ": " + e.getMessage(), e);
            }
        }
        return nonBlank(environment.get("TRANCHE_TOKEN")).map(String::strip).or(() -> stored.map(Credentials::token));
    }

    private Optional<Credentials> stored()
    {
        return Credentials.read(credentialsFile());
    }

    private static Optional<String> nonBlank(String value)
    {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }
}
