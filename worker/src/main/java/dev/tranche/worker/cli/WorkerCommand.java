package dev.tranche.worker.cli;

import picocli.CommandLine.Command;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * One replica of a scheduled experiment, configured by the TRANCHE_* environment (docs/worker.md):
 * rank 0 of a gang runs the Spark master and the driver, the other ranks a Spark Worker each; a
 * single replica trains in-process like {@code train}.
 */
@Command(name = "worker", description = {
        "Run one replica of an experiment as the execution backend starts it, configured by TRANCHE_* variables (docs/worker.md).",
        "Rank 0 (or the only replica) trains; ranks 1.. join its Spark master as executors."})
final class WorkerCommand
        extends TrainCommand
{
    @Override
    public Integer call()
            throws Exception
    {
        int code = super.call();
        recordExit(code);
        return code;
    }

    /**
     * Writes how the replica ended to TRANCHE_EXIT_FILE. The shell that supervises the worker writes
     * it too, once the process has ended; should that shell have been killed, the local backend
     * still adopts the running worker, and this is then the only record of how it ended.
     */
    private static void recordExit(int code)
    {
        String exitFile = System.getenv("TRANCHE_EXIT_FILE");
        if (exitFile == null || exitFile.isBlank()) {
            return;
        }
        Path file = Path.of(exitFile);
        Path temporary = file.resolveSibling(file.getFileName() + ".worker.tmp");
        try {
            Files.writeString(temporary, code + "\n", StandardCharsets.UTF_8);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (IOException e) {
            System.err.println("could not record the exit code in " + file + ": " + e.getMessage());
        }
    }
}
