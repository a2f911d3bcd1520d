package dev.tranche.cli;

import dev.tranche.client.TlsFailures;
import dev.tranche.client.TrancheClient;
import dev.tranche.spec.InvalidSpecException;
import dev.tranche.spec.SpecFormatException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.InputStream;
import java.io.PrintWriter;
import java.util.ServiceLoader;

import static java.util.Objects.requireNonNull;

/**
 * The {@code tranche} command. Client commands live here; modules on the class path add theirs
 * through {@link CommandProvider} (the launcher script puts the scheduler's on it).
 *
 * <p>Exit codes: 0 success, 1 the server refused the request (its message is printed), 2 bad usage or
 * a bad spec file, 3 the server could not be reached.
 */
@Command(name = "tranche",
        scope = CommandLine.ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = Tranche.Version.class,
        description = "Tranche: GPU training orchestration with fractional GPUs, quotas and gangs.",
        subcommands = {
                SubmitCommand.class,
                ListCommand.class,
                DescribeCommand.class,
                CancelCommand.class,
                WatchCommand.class,
                ProjectsCommand.class,
                QuotaCommand.class,
                NodesCommand.class,
                UsageCommand.class,
                HistoryCommand.class,
                DepartmentsCommand.class,
                MetricsCommand.class,
                LogsCommand.class,
                LoginCommand.class,
                LogoutCommand.class,
                WhoAmICommand.class,
                TokenCommand.class,
                AuditCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Tranche
{
    public static final int EXIT_SERVER_ERROR = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_UNREACHABLE = 3;

    public static void main(String[] args)
    {
        System.exit(commandLine().execute(args));
    }

    /** The full command tree, including commands contributed through {@link CommandProvider}. */
    public static CommandLine commandLine()
    {
        return create();
    }

    /**
     * The command tree with {@code stdin} as its standard input, which is taken not to be a terminal
     * ({@code tranche login} reads the token from it as one line): for running the CLI in-process.
     */
    public static CommandLine commandLine(InputStream stdin)
    {
        requireNonNull(stdin, "stdin is null");
        CommandLine commandLine = create();
        ((LoginCommand) commandLine.getSubcommands().get("login").getCommand()).readFrom(stdin);
        return commandLine;
    }

    private static CommandLine create()
    {
        CommandLine commandLine = new CommandLine(new Tranche());
        for (CommandProvider provider : ServiceLoader.load(CommandProvider.class)) {
            for (Object command : provider.commands()) {
                commandLine.addSubcommand(command);
            }
        }
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler(new ErrorHandler());
        commandLine.setParameterExceptionHandler(new UsageErrorHandler());
        return commandLine;
    }

    /**
     * A wrong option, or a file an option names that does not hold what it should: the error, picocli's
     * suggestion for a mistyped option, and where the options are described. Not the whole usage text,
     * which pushed the one line that matters off the screen.
     */
    private static final class UsageErrorHandler
            implements IParameterExceptionHandler
    {
        @Override
        public int handleParseException(ParameterException exception, String[] args)
        {
            CommandLine commandLine = exception.getCommandLine();
            PrintWriter err = commandLine.getErr();
            err.println("error: " + exception.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(exception, err);
            err.println("See '" + commandLine.getCommandSpec().qualifiedName() + " --help' for its options.");
            err.flush();
            return EXIT_USAGE;
        }
    }

    private static final class ErrorHandler
            implements IExecutionExceptionHandler
    {
        @Override
        public int handleExecutionException(Exception exception, CommandLine commandLine, ParseResult parseResult)
        {
            PrintWriter err = commandLine.getErr();
            int code;
            if (exception instanceof StatusRuntimeException status) {
                code = serverError(err, status.getStatus());
            }
            else if (exception instanceof SpecFormatException || exception instanceof InvalidSpecException) {
                err.println("error: " + exception.getMessage());
                code = EXIT_USAGE;
            }
            else if (exception instanceof CommandLine.ParameterException) {
                throw (CommandLine.ParameterException) exception;
            }
            else if (exception instanceof IllegalArgumentException || exception instanceof java.io.UncheckedIOException) {
                // bad local input: a flag's file, the stored login
                err.println("error: " + exception.getMessage());
                code = EXIT_USAGE;
            }
            else {
                err.println("error: " + (exception.getMessage() == null ? exception.toString() : exception.getMessage()));
                code = EXIT_SERVER_ERROR;
            }
            err.flush();
            return code;
        }

        private static int serverError(PrintWriter err, Status status)
        {
            Throwable tls = TlsFailures.innermost(status.getCause()).orElse(null);
            if (status.getCode() == Status.Code.UNAVAILABLE && tls != null) {
                err.println("error: the TLS handshake with the Tranche server failed (" + tls.getMessage() + ")."
                        + " If its certificate is self-signed or from a private CA, pass --ca-cert FILE (or set $TRANCHE_CA_CERT) with that CA's certificate;"
                        + " if the server does not serve TLS, drop --tls and --ca-cert.");
                return EXIT_UNREACHABLE;
            }
            if (answeredInHttp1(status.getCause())) {
                // grpc-netty reads the HTTP/1.1 answer of a web server as a broken HTTP/2 stream
                err.println("error: the server answered in plain HTTP, not gRPC: --server (or $TRANCHE_SERVER) looks like the scheduler's"
                        + " HTTP (dashboard) port. Use its gRPC port instead (" + TrancheClient.DEFAULT_SERVER.substring(TrancheClient.DEFAULT_SERVER.indexOf(':') + 1)
                        + " unless the scheduler was started with --grpc-port).");
                return EXIT_UNREACHABLE;
            }
            if (status.getCode() == Status.Code.UNAVAILABLE) {
                err.println("error: cannot reach the Tranche server (" + status.getDescription()
                        + "). Is it running? Start one with './tranche server', or point --server / $TRANCHE_SERVER at it."
                        + " If it serves TLS, add --tls or --ca-cert FILE.");
                return EXIT_UNREACHABLE;
            }
            if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
                err.println("error: the server did not answer in time (" + status.getDescription() + ")");
                return EXIT_UNREACHABLE;
            }
            err.println("error: " + status.getCode() + ": " + status.getDescription());
            if (status.getCode() == Status.Code.UNAUTHENTICATED) {
                err.println("hint: set $TRANCHE_TOKEN, pass --token-file FILE, or run `tranche login`");
            }
            return EXIT_SERVER_ERROR;
        }

    }

    /** Whether the first bytes the server sent were an HTTP/1.x status line ("HTTP/" is 485454502f in hex). */
    private static boolean answeredInHttp1(Throwable failure)
    {
        Throwable cause = failure;
        for (int depth = 0; cause != null && depth < 16; cause = cause.getCause(), depth++) {
            String message = cause.getMessage();
            if (message != null && message.contains("First received frame was not SETTINGS") && message.contains("485454502f")) {
                return true;
            }
        }
        return false;
    }

    static final class Version
            implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            String version = Tranche.class.getPackage().getImplementationVersion();
            return new String[] {"tranche " + (version == null ? "development build" : version)};
        }
    }
}
