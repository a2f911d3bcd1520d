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

    private Path write(String text)
            throws IOException
    {
        Path file = directory.resolve("quotas.yaml");
        Files.writeString(file, text);
        return file;
    }
}
