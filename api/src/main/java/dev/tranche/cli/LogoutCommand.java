package dev.tranche.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "logout", description = {
        "Forget the token `tranche login` stored.",
        "This deletes the credentials file, ~/.config/tranche/credentials unless $XDG_CONFIG_HOME is set.",
        "The token itself stays valid: an admin revokes it with `tranche token revoke ID` (see `tranche whoami` for its id)."})
final class LogoutCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = "--credentials", paramLabel = "FILE", hidden = true,
            description = "Where the login is stored (default: ~/.config/tranche/credentials).")
    Path credentialsFile;

    @Override
    public Integer call()
    {
        Path file = Credentials.file(credentialsFile, System.getenv());
        boolean deleted;
        try {
            deleted = Files.deleteIfExists(file);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file + ": " + e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(deleted ? "logged out: deleted " + file : "not logged in: " + file + " does not exist");
        out.flush();
        String environmentToken = System.getenv("TRANCHE_TOKEN");
        if (environmentToken != null && !environmentToken.isBlank()) {
            spec.commandLine().getErr().println("note: $TRANCHE_TOKEN is still set, and commands keep sending it");
            spec.commandLine().getErr().flush();
        }
        return 0;
    }
}
