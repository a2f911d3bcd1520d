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

    @Test
    void aMistypedCommandGetsASuggestion()
    {
        CliRun run = CliRun.of(List.of("simulte", "--nodes", "1"));

        assertThat(run.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(run.err()).contains("'simulte'").contains("Did you mean: tranche simulate").contains("See 'tranche --help'").doesNotContain("Usage:");
    }
}
