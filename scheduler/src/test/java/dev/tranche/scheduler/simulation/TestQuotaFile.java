package dev.tranche.scheduler.simulation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The quotas file of `tranche simulate`: read as written, or refused with the field path and a fix. */
class TestQuotaFile
{
    @TempDir
    Path directory;

    @Test
    void readsQuotedAndPlainNames()
            throws IOException
    {
        QuotaFile quotas = QuotaFile.read(write("""
                projects:
                  - name: "6214e9"
                    deserved: 31.5
                  - name: vision
                    deserved: 2
                    limit: 4
                """));
        assertThat(quotas.projects()).extracting(project -> project.project()).containsExactly("6214e9", "vision");
    }

    @Test
    void aNameYamlReadsAsANumberIsRefusedWithHowToQuoteIt()
            throws IOException
    {
        // Philly's team ids are hex: YAML reads 6214e9 as 6.214E12, which used to become a quota for a project nobody has
        Path file = write("""
                projects:
                  - name: 6214e9
                    deserved: 31.5
                """);
        assertThatThrownBy(() -> QuotaFile.read(file)).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("projects[0].name: expected a name, got the number 6.214E12")
                .hasMessageContaining("quote it, e.g. name: \"6214e9\"");
    }

    /** A name given twice ran every policy and printed rows before the core refused it, naming no file. */
    @Test
    void aNameGivenTwiceIsRefusedWithBothPlaces()
            throws IOException
    {
        Path projects = write("""
                projects:
                  - name: a
                    deserved: 1
                  - name: " a "
                    deserved: 2
                """);
        assertThatThrownBy(() -> QuotaFile.read(projects)).isInstanceOf(TraceFormatException.class)
                .hasMessage(projects + ": projects[1].name: a appears twice (also projects[0]); give each project one entry");
        Path departments = write("""
                projects:
                  - name: a
                    deserved: 1
                departments:
                  - name: vision
                    deserved: 1
                  - name: vision
                    deserved: 1
                """);
        assertThatThrownBy(() -> QuotaFile.read(departments)).isInstanceOf(TraceFormatException.class)
                .hasMessage(departments + ": departments[1].name: vision appears twice (also departments[0]); give each department one entry");
    }

    /** The server's `tranche quota set` refuses these; a replay of quotas no server takes would mislead. */
    @Test
    void quotasFollowTheServersRangeAndDecimals()
            throws IOException
    {
        Path decimals = write("""
                projects:
                  - name: a
                    deserved: 0.0004
                """);
        assertThatThrownBy(() -> QuotaFile.read(decimals)).isInstanceOf(TraceFormatException.class)
                .hasMessage(decimals + ": projects[0].deserved must have at most 3 decimals (milli-GPUs): got 0.0004");
        Path large = write("""
                projects:
                  - name: a
                    deserved: 1
                    limit: 1e12
                """);
        assertThatThrownBy(() -> QuotaFile.read(large)).isInstanceOf(TraceFormatException.class)
                .hasMessage(large + ": projects[0].limit must be at most 1000000: got 1000000000000");
        Path department = write("""
                projects:
                  - name: a
                    deserved: 1
                departments:
                  - name: vision
                    deserved: 2.5005
                """);
        assertThatThrownBy(() -> QuotaFile.read(department)).isInstanceOf(TraceFormatException.class)
                .hasMessage(department + ": departments[0].deserved must have at most 3 decimals (milli-GPUs): got 2.5005");
        assertThat(QuotaFile.read(write("projects:\n  - name: a\n    deserved: 0.125\n")).projects().get(0).deservedMilliGpu()).isEqualTo(125);
    }

    /** The YAML library recurses once per level: 3000 nested '[' in 6 KB ended in a StackOverflowError. */
    @Test
    void deepNestingIsRefusedWithTheLine()
            throws IOException
    {
        Path file = write("projects: " + "[".repeat(3000) + "\n");
        assertThatThrownBy(() -> QuotaFile.read(file)).isInstanceOf(TraceFormatException.class)
                .hasMessage(file + ": line 1: nests more than 32 levels deep; a quotas file needs no more than 3");
    }

    /** A file of another encoding gave "cannot read (Input length = 3)", the decoder's words. */
    @Test
    void aFileThatIsNotUtf8IsRefusedAsSuch()
            throws IOException
    {
        Path file = directory.resolve("latin1.yaml");
        Files.write(file, "projects:\n  - name: caf\u00e9\n    deserved: 1\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> QuotaFile.read(file)).isInstanceOf(TraceFormatException.class)
                .hasMessage(file + ": is not UTF-8 text");
    }

    private Path write(String text)
            throws IOException
    {
        Path file = directory.resolve("quotas.yaml");
        Files.writeString(file, text);
        return file;
    }
}
