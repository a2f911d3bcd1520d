package dev.tranche.cli;

import dev.tranche.client.TrancheClient;
import picocli.CommandLine.Option;

/** Options every command that talks to a scheduler shares. */
public final class ClientOptions
{
    @Option(names = "--server", paramLabel = "HOST:PORT",
            description = "Scheduler address (default: $TRANCHE_SERVER, else " + TrancheClient.DEFAULT_SERVER + ").")
    String server;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    OutputFormat output = OutputFormat.table;

    public String server()
    {
        if (server != null && !server.isBlank()) {
            return server;
        }
        String fromEnvironment = System.getenv("TRANCHE_SERVER");
        return fromEnvironment == null || fromEnvironment.isBlank() ? TrancheClient.DEFAULT_SERVER : fromEnvironment;
    }

    public OutputFormat output()
    {
        return output;
    }

    public TrancheClient connect()
    {
        return TrancheClient.connect(server());
    }
}
