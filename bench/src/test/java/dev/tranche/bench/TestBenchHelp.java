package dev.tranche.bench;

import dev.tranche.cli.Tranche;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Every help page renders as written: picocli reads descriptions as format strings, so a lone % breaks one (and only warns on stderr). */
class TestBenchHelp
{
    @Test
    void everyBenchHelpPageFormatsWithoutWarnings()
    {
        CommandLine bench = Tranche.commandLine().getSubcommands().get("bench");
        assertThat(bench).as("the bench command is registered").isNotNull();
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        PrintStream err = System.err;
        List<String> pages = new ArrayList<>();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            render(bench, pages);
        }
        finally {
            System.setErr(err);
        }
        assertThat(pages).contains("submit", "scale", "placement");
        assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    private static void render(CommandLine command, List<String> pages)
    {
        command.getUsageMessage(CommandLine.Help.Ansi.OFF);
        pages.add(command.getCommandName());
        command.getSubcommands().values().stream().distinct().forEach(sub -> render(sub, pages));
    }
}
