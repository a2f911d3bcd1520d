package dev.tranche.scheduler.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.cli.Tranche;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark commands work end to end against the server they start (with authentication on), at
 * a size that takes seconds. The measurements themselves are in docs/benchmarks.md.
 */
final class BenchCommandsTest
{
    private static JsonObject run(String... args)
    {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = Tranche.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args);
        assertThat(code).as(err.toString()).isZero();
        String text = out.toString().strip();
        return JsonParser.parseString(text.substring(text.lastIndexOf('\n') + 1)).getAsJsonObject();
    }

    @Test
    void metricsBenchmarkStoresEveryPointItSends()
    {
        JsonObject result = run("bench", "metrics", "--streams", "2", "--points", "2000", "--batch", "100", "-o", "json");
        assertThat(result.get("points").getAsLong()).isEqualTo(2000);
        assertThat(result.get("stored").getAsLong()).isEqualTo(2000);
    }

    @Test
    void submitBenchmarkStoresEveryAcknowledgedSubmission()
    {
        JsonObject result = run("bench", "submit", "--clients", "2", "--duration", "1", "--warmup", "0", "-o", "json");
        assertThat(result.get("acknowledged").getAsLong()).isPositive().isEqualTo(result.get("stored").getAsLong());
        assertThat(result.get("failed").getAsLong()).isZero();
    }
}
