package dev.tranche.cli;

import com.google.protobuf.MessageOrBuilder;
import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;

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
    private Optional<Credentials> stored;

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
        return target(server, environment, stored());
    }

    /** Where to connect: the flag, else $TRANCHE_SERVER, else the stored login's server, else the default. */
    static String target(String flag, Map<String, String> environment, Optional<Credentials> stored)
    {
        return nonBlank(flag).or(() -> nonBlank(environment.get("TRANCHE_SERVER"))).or(() -> stored.map(Credentials::server)).orElse(TrancheClient.DEFAULT_SERVER);
    }

    public OutputFormat output()
    {
        return output;
    }

    public Path credentialsFile()
    {
        return Credentials.file(credentialsFile, environment);
    }

    /** The connection the flags, the environment and the stored login describe. */
    public ConnectionSettings connection()
    {
        String target = server();
        Optional<Credentials> sameServer = stored().filter(credentials -> credentials.server().equals(target));
        return settings(target, token(sameServer), tls, caCertificate, environment, sameServer);
    }

    /**
     * TLS and its CA for {@code target}: the flags, else $TRANCHE_TLS and $TRANCHE_CA_CERT, else what
     * the login stored for this same server.
     */
    static ConnectionSettings settings(String target, Optional<String> token, boolean tlsFlag, Path caFlag, Map<String, String> environment,
            Optional<Credentials> sameServer)
    {
        Optional<Path> ca = Optional.ofNullable(caFlag)
                .or(() -> nonBlank(environment.get("TRANCHE_CA_CERT")).map(Path::of))
                .or(() -> sameServer.flatMap(Credentials::caCertificate).map(Path::of));
        boolean useTls = tlsFlag || "1".equals(environment.get("TRANCHE_TLS")) || "true".equalsIgnoreCase(environment.getOrDefault("TRANCHE_TLS", ""))
                || sameServer.map(Credentials::tls).orElse(false);
        return new ConnectionSettings(target, token, useTls, ca);
    }

    public TrancheClient connect()
    {
        return TrancheClient.connect(connection());
    }

    /**
     * What nearly every command does: connect, make one call, and print the answer, as JSON with
     * {@code -o json}, else as {@code table} writes it for people. Returns the exit code.
     */
    public <M extends MessageOrBuilder> int show(CommandSpec spec, Function<TrancheClient, M> call, BiConsumer<PrintWriter, M> table)
    {
        M answer;
        try (TrancheClient tranche = connect()) {
            answer = call.apply(tranche);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output == OutputFormat.json) {
            out.println(Formats.json(answer));
        }
        else {
            table.accept(out, answer);
        }
        out.flush();
        return 0;
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

    /** The stored login, read once per command (the server and the connection both consult it). */
    private Optional<Credentials> stored()
    {
        if (stored == null) {
            stored = Credentials.read(credentialsFile());
        }
        return stored;
    }

    private static Optional<String> nonBlank(String value)
    {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }
}
