package dev.tranche.scheduler.simulation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

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

    /** The replay counts usage hour by hour: a typo of 0026 for 2026 made it allocate two millennia of hours and run out of memory. */
    @Test
    void arrivalsSpanningMoreThanTenYearsAreRefusedAtTheOutlyingLine()
            throws IOException
    {
        Path typo = write(TraceReader.TRANCHE_HEADER + "\n2026-11-30T08:00:00Z,a,1,1,60,\n0026-11-30T09:00:00Z,a,1,1,60,\n2026-11-30T10:00:00Z,a,1,1,60,\n");
        assertThatThrownBy(() -> TraceReader.tranche(typo)).isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith(typo + " line 3 column 1 (arrival): 0026-11-30T09:00:00Z is ")
                .hasMessageContaining("a trace may span at most 3650 days (10 years)");
        Path seconds = write(TraceReader.TRANCHE_HEADER + "\n0,a,1,1,60,\n10,a,1,1,60,\n1e12,a,1,1,60,\n");
        assertThatThrownBy(() -> TraceReader.tranche(seconds)).isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith(seconds + " line 4 column 1 (arrival): 1e12 is ");
        Path extremes = write(TraceReader.TRANCHE_HEADER + "\n-999999999-01-01T00:00:00Z,a,1,1,60,\n1e300,a,1,1,60,\n");
        assertThatThrownBy(() -> TraceReader.tranche(extremes)).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("a trace may span at most 3650 days");
        Path philly = write(PHILLY_HEADER + "\n2017-10-09 07:01:55,66.0,1,66.0,a\n2017-10-09 06:13:03,60,1,60,a\n1017-10-09 06:13:03,60,1,60,a\n");
        assertThatThrownBy(() -> TraceReader.philly(philly, 8)).isInstanceOf(TraceFormatException.class)
                .hasMessageStartingWith(philly + " line 4 column 1 (timestamp): 1017-10-09 06:13:03 is ");
    }

    /** One job of 1e300 seconds made the replay run out of memory the same way. */
    @Test
    void aDurationOfMoreThanTenYearsIsRefused()
            throws IOException
    {
        Path file = write(TraceReader.TRANCHE_HEADER + "\n0,a,1,1,60,\n0,a,1,1,1e300,\n");
        assertThatThrownBy(() -> TraceReader.tranche(file)).isInstanceOf(TraceFormatException.class)
                .hasMessage(file + " line 3 column 5 (duration): a job may run at most 315360000 seconds (3650 days, 10 years): got \"1e300\"");
        Path philly = write(PHILLY_HEADER + "\n2017-10-09 07:01:55,4e8,1,66.0,a\n");
        assertThatThrownBy(() -> TraceReader.philly(philly, 8)).isInstanceOf(TraceFormatException.class)
                .hasMessage(philly + " line 2 column 2 (duration): a job may run at most 315360000 seconds (3650 days, 10 years): got \"4e8\"");
    }

    /** A byte that is not UTF-8 gave "could not read FILE: Input length = 1", the decoder's words, with no line. */
    @Test
    void aTraceThatIsNotUtf8IsRefusedWithTheLine()
            throws IOException
    {
        // far enough in that the reader has decoded many lines before it meets the byte
        StringBuilder text = new StringBuilder(TraceReader.TRANCHE_HEADER + "\n");
        for (int i = 0; i < 5000; i++) {
            text.append(i).append(",a,1,1,60,\n");
        }
        byte[] good = text.toString().getBytes(StandardCharsets.UTF_8);
        byte[] bytes = Arrays.copyOf(good, good.length + 15);
        System.arraycopy("5000,\u00e9".getBytes(StandardCharsets.ISO_8859_1), 0, bytes, good.length, 6);
        System.arraycopy(",1,1,60,\n".getBytes(StandardCharsets.UTF_8), 0, bytes, good.length + 6, 9);
        Path file = Files.createTempFile(directory, "latin1-", ".csv");
        Files.write(file, bytes);

        assertThatThrownBy(() -> TraceReader.tranche(file)).isInstanceOf(TraceFormatException.class)
                .hasMessage(file + " line 5002: not UTF-8 text; save the file as UTF-8");
    }

    private Path write(String text)
            throws IOException
    {
        Path file = Files.createTempFile(directory, "trace-", ".csv");
        Files.writeString(file, text);
        return file;
    }
}
