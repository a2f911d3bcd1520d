package dev.tranche.worker.cluster;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** worker/jvm.args is the one list of worker JVM flags: the executors' subset comes from it, and this JVM got it. */
final class JvmFlagsTest
{
    private static final Path FLAGS = Path.of("jvm.args");

    @Test
    void theExecutorsFlagsAreInTheOneList()
            throws IOException
    {
        assertThat(Gang.aeronFlags()).containsExactly("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "-Daeron.publication.unblock.timeout=60000000000");
        assertThat(flags()).containsAll(Gang.aeronFlags());
    }

    @Test
    void theClasspathCopyIsTheFile()
            throws IOException
    {
        assertThat(Gang.workerJvmFlags()).isEqualTo(flags());
    }

    @Test
    void theTestJvmRunsWithTheList()
            throws IOException
    {
        // surefire's argLine names the file; the launcher expands it into these arguments
        assertThat(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()).containsAll(flags());
    }

    private static List<String> flags()
            throws IOException
    {
        List<String> flags = Files.readAllLines(FLAGS).stream()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .toList();
        assertThat(flags).as("flags in %s", FLAGS.toAbsolutePath()).isNotEmpty().allMatch(flag -> flag.startsWith("-"));
        return flags;
    }
}
