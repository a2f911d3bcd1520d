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

/** Every help page renders as written and reads well at the terminal's width. */
class TestBenchHelp
{
    /** picocli reads descriptions as format strings, so a lone % breaks one (and only warns on stderr). */
    @Test
    void everyBenchHelpPageFormatsWithoutWarnings()
    {
        CommandLine bench = Tranche.commandLine().getSubcommands().get("bench");
        assertThat(bench).as("the bench command is registered").isNotNull();
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        PrintStream err = System.err;
        List<CommandLine> commands = new ArrayList<>();
        collect(bench, commands);
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            commands.forEach(command -> command.getUsageMessage(CommandLine.Help.Ansi.OFF));
        }
        finally {
            System.setErr(err);
        }
        assertThat(commands).extracting(CommandLine::getCommandName).contains("submit", "scale", "placement");
        assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    /**
     * A description written as several hard-wrapped strings is printed a line per string, each wrapped
     * again at the terminal's width: ragged lines, some of a few words. Written as paragraphs, it fills
     * each line: no line could take the next one's first word.
     */
    @Test
    void everyBenchDescriptionFillsItsLines()
    {
        CommandLine bench = Tranche.commandLine().getSubcommands().get("bench");
        List<CommandLine> commands = new ArrayList<>();
        collect(bench, commands);
        for (CommandLine command : commands) {
            int width = command.getCommandSpec().usageMessage().width();
            List<String> lines = command.getHelp().description().lines().toList();
            for (int i = 0; i + 1 < lines.size(); i++) {
                String line = lines.get(i).stripTrailing();
                String next = lines.get(i + 1).strip();
                if (line.isBlank() || next.isEmpty()) {
                    continue;
                }
                String firstWord = next.split(" ", 2)[0];
                assertThat(line.length() + 1 + firstWord.length())
                        .as("%s: \"%s\" could take \"%s\" from the line after it", command.getCommandName(), line.strip(), firstWord)
                        // picocli keeps the last column free
                        .isGreaterThanOrEqualTo(width);
            }
        }
        assertThat(commands).extracting(CommandLine::getCommandName).contains("bench", "submit", "scale", "placement", "metrics", "trace");
    }

    private static void collect(CommandLine command, List<CommandLine> commands)
    {
        commands.add(command);
        command.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, commands));
    }
}
