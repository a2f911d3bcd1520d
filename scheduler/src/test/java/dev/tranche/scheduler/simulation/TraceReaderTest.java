package dev.tranche.scheduler.simulation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the trace reader of `tranche simulate` accepts, and how it names what it refuses. */
class TraceReaderTest
{
    private static final String PHILLY_HEADER = "timestamp,duration,num_gpus,gpu_time,cluster";

    @TempDir
    Path directory;

    /** A trace without its header used to lose its first job silently: the first line was skipped unread. */
    @Test
    void aTrancheTraceWithoutItsHeaderIsRefusedNamingTheHeader()
            throws IOException
    {
        Path file = write("0,a,1,1,60,\n10,b,1,1,60,\n");

        assertThatThrownBy(() -> TraceReader.tranche(file)).isInstanceOf(TraceFormatException.class)
                .hasMessage(file + " line 1: expected the header arrival,project,replicas,gpus,duration,priority, got \"0,a,1,1,60,\"");
    }

    /** Columns are read by position, so a header naming them in another order would mean other values. */
    @Test
    void aTrancheHeaderWithReorderedColumnsIsRefused()
            throws IOException
    {
        Path file = write("project,arrival,replicas,gpus,duration,priority\na,0,1,1,60,\n");

        assertThatThrownBy(() -> TraceReader.tranche(file)).isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith(file + " line 1: expected the header arrival,project,replicas,gpus,duration,priority, got \"project,arrival");
    }

    /** Spaces around the header and a byte-order mark (some spreadsheets write one) are not a different header. */
    @Test
    void theHeaderIsComparedAfterTrimming()
            throws IOException
    {
        Path file = write("\uFEFF arrival,project,replicas,gpus,duration,priority \r\n0,a,1,1,60,\n");

        assertThat(TraceReader.tranche(file)).extracting(TraceJob::project).containsExactly("a");
    }

    /** The Philly reader skipped its first line unread too. */
    @Test
    void aPhillyTraceWithoutItsHeaderIsRefused()
            throws IOException
    {
        Path file = write("2017-10-09 07:01:55,66.0,1,66.0,11cb48\n2017-10-09 06:13:03,2951.0,1,2951.0,6214e9\n");

        assertThatThrownBy(() -> TraceReader.philly(file, 8)).isInstanceOf(TraceFormatException.class)
                .hasMessage(file + " line 1: expected the header " + PHILLY_HEADER + ", got \"2017-10-09 07:01:55,66.0,1,66.0,11cb48\"");
        Path good = write(PHILLY_HEADER + "\n2017-10-09 07:01:55,66.0,1,66.0,11cb48\n");
        assertThat(TraceReader.philly(good, 8)).extracting(TraceJob::project).containsExactly("11cb48");
    }

    private Path write(String text)
            throws IOException
    {
        Path file = Files.createTempFile(directory, "trace-", ".csv");
        Files.writeString(file, text);
        return file;
    }
}
