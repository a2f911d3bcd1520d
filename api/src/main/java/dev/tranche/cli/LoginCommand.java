package dev.tranche.cli;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Token;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "login",
        description = {
                "Check a token against the scheduler and store it for later commands.",
                "The token is read from the terminal without echo, or as one line from standard input when that is not a terminal "
                        + "(e.g. `pass show tranche | tranche login --server HOST:PORT`). A token the scheduler refuses is not stored.",
                "It is kept in ~/.config/tranche/credentials (readable by you alone) and only sent to the server it was stored for."})
final class LoginCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = "--server", paramLabel = "HOST:PORT",
            description = "Scheduler address (default: $TRANCHE_SERVER, else the one stored by the last login, else " + TrancheClient.DEFAULT_SERVER + ").")
    String server;

    @Option(names = "--tls", description = "Use TLS, trusting the system's CAs (default: $TRANCHE_TLS=1; implied by --ca-cert). Stored with the login.")
    boolean tls;

    @Option(names = "--ca-cert", paramLabel = "FILE", description = "Use TLS, trusting this PEM CA certificate (default: $TRANCHE_CA_CERT). Its path is stored with the login.")
    Path caCertificate;

    @Option(names = "--token-stdin", description = "Read the token as one line from standard input even if it is a terminal.")
    boolean tokenStdin;

    @Option(names = "--credentials", paramLabel = "FILE", hidden = true,
            description = "Where to store the login (default: ~/.config/tranche/credentials).")
    Path credentialsFile;

    /** Standard input when it was handed in ({@link Tranche#commandLine(InputStream)}): never a terminal. */
    private InputStream input;
    private final Map<String, String> environment = System.getenv();

    void readFrom(InputStream input)
    {
        this.input = input;
    }

    @Override
    public Integer call()
    {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path file = Credentials.file(credentialsFile, environment);
        Optional<Credentials> previous = previous(file);
        String target = ClientOptions.target(server, environment, previous).strip();
        Optional<Credentials> sameServer = previous.filter(credentials -> credentials.server().equals(target));

        String token = readToken(target);
        // the CA's path is stored absolute, so later commands find it from any directory
        Path absoluteCa = caCertificate == null ? null : caCertificate.toAbsolutePath().normalize();
        ConnectionSettings connection = ClientOptions.settings(target, Optional.of(token), tls, absoluteCa, environment, sameServer);
        Token who;
        try (TrancheClient tranche = TrancheClient.connect(connection)) {
            who = tranche.whoAmI();
        }
        catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code != Status.Code.UNAUTHENTICATED && code != Status.Code.PERMISSION_DENIED) {
                throw e;
            }
            err.println("error: " + code + ": " + e.getStatus().getDescription());
            err.println("the scheduler at " + target + " refused the token; nothing was stored");
            err.flush();
            return Tranche.EXIT_SERVER_ERROR;
        }

        new Credentials(target, token, connection.tls(), connection.caCertificate().map(path -> path.toAbsolutePath().normalize().toString())).write(file);
        out.printf("logged in to %s as %s%n", target, Formats.holder(who));
        out.flush();
        if (nonBlank(environment.get("TRANCHE_TOKEN")).isPresent()) {
            err.println("note: $TRANCHE_TOKEN is set and is used instead of this login until you unset it");
        }
        nonBlank(environment.get("TRANCHE_SERVER")).filter(other -> !other.strip().equals(target)).ifPresent(other ->
                err.println("note: $TRANCHE_SERVER is " + other + ", so other commands go there (without this token) unless you pass --server " + target));
        err.flush();
        return 0;
    }

    private String readToken(String target)
    {
        String token;
        Console console = input == null && !tokenStdin ? System.console() : null;
        if (console != null && isTerminal(console)) {
            char[] typed = console.readPassword("Token for %s: ", target);
            if (typed == null) {
                throw usage("no token given");
            }
            token = new String(typed).strip();
            Arrays.fill(typed, '\0');
        }
        else {
            try {
                String line = new BufferedReader(new InputStreamReader(input == null ? System.in : input, StandardCharsets.UTF_8)).readLine();
                token = line == null ? "" : line.strip();
            }
            catch (IOException e) {
                throw new UncheckedIOException("cannot read the token from standard input: " + e.getMessage(), e);
            }
        }
        if (token.isEmpty()) {
            throw usage("no token on standard input: type it at the prompt, or pipe it in, e.g. `cat token.txt | tranche login --server " + target + "`");
        }
        if (!token.chars().allMatch(c -> c > 32 && c < 127)) {
            throw usage("the token must be printable ASCII without spaces (is it the whole token, on one line?)");
        }
        return token;
    }

    /** The previous login, if it is readable: a damaged file is replaced, not an obstacle. */
    private static Optional<Credentials> previous(Path file)
    {
        try {
            return Credentials.read(file);
        }
        catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Java 22 and newer return a console even when redirected; ask it then (Console.isTerminal). */
    private static boolean isTerminal(Console console)
    {
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        }
        catch (NoSuchMethodException e) {
            return true;   // Java 17-21: a console exists only when stdin and stdout are terminals
        }
        catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    private CommandLine.ParameterException usage(String message)
    {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private static Optional<String> nonBlank(String value)
    {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }
}
