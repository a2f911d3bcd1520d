package dev.tranche.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark commands work end to end against the server they start (with authentication on), at
 * a size that takes seconds. The measurements themselves are in docs/benchmarks.md.
 */
final class BenchCommandsTest
{
    private static JsonObject run(String... args)
    {
        BenchCliRun run = BenchCliRun.of(args);
        assertThat(run.code()).as(run.err()).isZero();
        String text = run.out().strip();
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

    /** Open loop against its own server with a small backlog: every rate reports, every acknowledged submission is stored, cycles are read from the server. */
    @Test
    void openLoopSubmitBenchmarkReportsEachRateAndTheServersCycles()
    {
        JsonObject result = run("bench", "submit", "--rate", "20,40", "--clients", "4", "--duration", "1", "--warmup", "1", "--max-warmup", "3", "--preload", "20", "-o", "json");
        assertThat(result.get("mode").getAsString()).isEqualTo("open-loop");
        assertThat(result.getAsJsonArray("rates")).hasSize(2);
        for (var rate : result.getAsJsonArray("rates")) {
            JsonObject object = rate.getAsJsonObject();
            // warm-up and measured seconds together, every one counted after the last rate
            assertThat(object.get("acknowledged").getAsLong()).isEqualTo(object.get("sent").getAsLong()).isEqualTo(object.get("stored").getAsLong());
            assertThat(object.get("p99_ms").getAsDouble()).isGreaterThanOrEqualTo(object.get("p50_ms").getAsDouble());
            // the warm-up's latency apart, and the CPU both JVMs spent over the measured second
            assertThat(object.getAsJsonObject("warmup").get("max_ms").getAsDouble()).isPositive();
            // at least --warmup; longer only while a JIT compiler is busy, never past --max-warmup
            assertThat(object.getAsJsonObject("warmup").get("seconds").getAsDouble()).isBetween(1.0, 3.5);
            assertThat(object.getAsJsonArray("p99_ms_by_5_s")).hasSize(1);
            assertThat(object.getAsJsonObject("generator").get("cpu_percent_of_a_core").getAsDouble()).isPositive();
            assertThat(object.getAsJsonObject("server").get("cpu_percent_of_a_core").getAsDouble()).isPositive();
            assertThat(object.getAsJsonObject("server").get("jit_ms").getAsLong()).isNotNegative();
        }
        assertThat(result.getAsJsonArray("server_cycles")).hasSize(2);
        JsonObject cycles = result.getAsJsonArray("server_cycles").get(1).getAsJsonObject();
        assertThat(cycles.get("queued_at_end").getAsLong()).isGreaterThanOrEqualTo(20);
        // where the cycles' time went, phase by phase, in the order a cycle runs them
        assertThat(cycles.getAsJsonObject("phases").keySet()).containsExactly("queue", "decide", "store");
        // and the views of the store they decided from, read in the background meanwhile
        assertThat(cycles.getAsJsonObject("view").get("reads").getAsLong()).isPositive();
        if (cycles.get("cycles").getAsLong() > 0) {
            assertThat(cycles.get("percent_within_100_ms").getAsDouble()).isBetween(0.0, 100.0);
            assertThat(cycles.getAsJsonObject("view").get("age_percent_within_100_ms").getAsDouble()).isBetween(0.0, 100.0);
        }
    }
}
