package dev.tranche.scheduler.simulation;

import dev.tranche.cli.Tranche;
import dev.tranche.scheduler.testing.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What `tranche simulate` (and the command line around it) says when an option or the file it names is wrong. */
class SimulateCliErrorsTest
{
    @TempDir
    Path files;

    @Test
    void aBadQuotasFileIsNamedWithItsFieldAndTheUsageTextStaysOut()
            throws IOException
    {
        Path trace = Files.writeString(files.resolve("trace.csv"), "arrival,project,replicas,gpus,duration,priority\n0,a,1,1,60,\n");
        Path quotas = Files.writeString(files.resolve("quotas.yaml"), "projects:\n  - name: \"a\"\n    deserved: 1\n    weight: 0\n");

        CliRun run = CliRun.of(List.of("simulate", "--trace", trace.toString(), "--format", "tranche", "--nodes", "1", "--gpus-per-node", "8",
                "--quotas", quotas.toString()));

        assertThat(run.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(run.err()).startsWith("error: " + quotas + ": projects[0]: project a: over-quota weight must be > 0, got 0.0\n");
        assertThat(run.err()).contains("See 'tranche simulate --help' for its options.");
        // the whole usage text after it hid the one line that matters
        assertThat(run.err()).doesNotContain("Usage:").hasLineCount(2);
        assertThat(run.out()).isEmpty();
    }

    /** A negative restart delay printed the table header, then a message naming neither option nor value; a huge one, "long overflow" and exit 1. */
    @Test
    void durationsOutOfRangeAreUsageErrorsBeforeAnyOutput()
            throws IOException
    {
        Path trace = Files.writeString(files.resolve("trace.csv"), "arrival,project,replicas,gpus,duration,priority\n0,a,1,1,60,\n");
        for (List<String> option : List.of(List.of("--restart-delay", "PT-1H"), List.of("--restart-delay", "PT9999999999999H"), List.of("--restart-delay", "2d"),
                List.of("--checkpoint-interval", "PT9999999999999H"), List.of("--checkpoint-interval", "0s"), List.of("--checkpoint-interval", "4000d"))) {
            List<String> args = new java.util.ArrayList<>(List.of("simulate", "--trace", trace.toString(), "--format", "tranche", "--nodes", "1", "--gpus-per-node", "8"));
            args.addAll(option);

            CliRun run = CliRun.of(args);

            assertThat(run.code()).as(option.toString()).isEqualTo(Tranche.EXIT_USAGE);
            assertThat(run.err()).as(option.toString()).startsWith("error: " + option.get(0) + " must be ").contains(": got " + option.get(1) + "\n");
            assertThat(run.out()).as(option.toString()).isEmpty();
        }
    }

    /**
     * The report replaces the old one whole: written in place, whoever had the old page open (here a
     * second link to it) saw it truncated and rewritten, and a failed write left half a page.
     */
    @Test
    void theReportReplacesTheOldFileRatherThanRewritingItInPlace()
            throws IOException
    {
        Path trace = Files.writeString(files.resolve("trace.csv"), "arrival,project,replicas,gpus,duration,priority\n0,a,1,1,60,\n");
        Path report = Files.writeString(files.resolve("report.html"), "the old report");
        Path opened = Files.createLink(files.resolve("opened.html"), report);

        CliRun run = CliRun.of(List.of("simulate", "--trace", trace.toString(), "--format", "tranche", "--nodes", "1", "--gpus-per-node", "8",
                "--report", report.toString()));

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(Files.readString(report)).contains("<html");
        assertThat(Files.readString(opened)).isEqualTo("the old report");
        try (var left = Files.list(files)) {
            assertThat(left.map(path -> path.getFileName().toString())).containsExactlyInAnyOrder("trace.csv", "report.html", "opened.html");
        }
    }

    @Test
    void aMistypedCommandGetsASuggestion()
    {
        CliRun run = CliRun.of(List.of("simulte", "--nodes", "1"));

        assertThat(run.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(run.err()).contains("'simulte'").contains("Did you mean: tranche simulate").contains("See 'tranche --help'").doesNotContain("Usage:");
    }
}
