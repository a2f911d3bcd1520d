package dev.tranche.bench;

import dev.tranche.scheduler.simulation.TraceJob;
import dev.tranche.scheduler.simulation.TraceReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** `tranche bench trace` writes a trace `tranche simulate --format tranche` reads, the same for the same seed. */
final class TestTraceBenchCommand
{
    @Test
    void writesATraceTheSimulatorReadsTheSameForTheSameSeed(@TempDir Path dir)
            throws Exception
    {
        Path first = dir.resolve("first.csv");
        Path again = dir.resolve("again.csv");
        Path other = dir.resolve("other.csv");
        assertThat(BenchCliRun.of("bench", "trace", "--jobs", "3000", "--seed", "7", "--file", first.toString()).code()).isZero();
        assertThat(BenchCliRun.of("bench", "trace", "--jobs", "3000", "--seed", "7", "--file", again.toString()).code()).isZero();
        assertThat(BenchCliRun.of("bench", "trace", "--jobs", "3000", "--seed", "8", "--file", other.toString()).code()).isZero();
        assertThat(Files.readString(again)).isEqualTo(Files.readString(first));
        assertThat(Files.readString(other)).isNotEqualTo(Files.readString(first));

        List<TraceJob> jobs = TraceReader.read(first, "tranche", 8);
        assertThat(jobs).hasSize(3000);
        assertThat(jobs.stream().map(TraceJob::project).collect(Collectors.toSet())).hasSizeBetween(2, 10);
        for (int i = 1; i < jobs.size(); i++) {
            assertThat(jobs.get(i).arrivalSecond()).isGreaterThanOrEqualTo(jobs.get(i - 1).arrivalSecond());
        }
        // whole GPUs of the a-priori sizes; more than a node becomes replicas of 8
        Set<Long> sizes = Set.of(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L);
        assertThat(jobs).allSatisfy(job -> {
            assertThat(sizes).contains(job.gpuMilli());
            assertThat(job.durationSeconds()).isBetween(10.0, 14 * 86_400.0);
        });
        assertThat(jobs.stream().filter(job -> job.gpuMilli() == 1_000L).count()).as("most jobs take one GPU").isGreaterThan(2000);
    }

    /** With --sweep-spread 0 the jobs of a sweep (one instant, one team, one size) share their run time; without it they do not. */
    @Test
    void sweepsShareARunTimeWhenAsked(@TempDir Path dir)
            throws Exception
    {
        Path alike = dir.resolve("alike.csv");
        Path independent = dir.resolve("independent.csv");
        assertThat(BenchCliRun.of("bench", "trace", "--jobs", "3000", "--seed", "7", "--sweep-spread", "0", "--file", alike.toString()).code()).isZero();
        assertThat(BenchCliRun.of("bench", "trace", "--jobs", "3000", "--seed", "7", "--file", independent.toString()).code()).isZero();
        assertThat(sweepsAllAlike(TraceReader.read(alike, "tranche", 8))).isGreaterThan(0.95);
        assertThat(sweepsAllAlike(TraceReader.read(independent, "tranche", 8))).isLessThan(0.1);

        BenchCliRun bad = BenchCliRun.of("bench", "trace", "--sweep-spread", "-1", "--file", dir.resolve("bad.csv").toString());
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("--sweep-spread must be from 0 to 5: got -1.0");
        assertThat(dir.resolve("bad.csv")).doesNotExist();
    }

    /** Of the groups of two or more jobs with one arrival, team and size: the share whose run times are all equal. */
    private static double sweepsAllAlike(List<TraceJob> jobs)
    {
        var groups = jobs.stream().collect(Collectors.groupingBy(job -> job.arrivalSecond() + "/" + job.project() + "/" + job.gpuMilli() + "/" + job.replicas()));
        List<List<TraceJob>> sweeps = groups.values().stream().filter(group -> group.size() >= 2).toList();
        assertThat(sweeps).hasSizeGreaterThan(50);
        return sweeps.stream().filter(group -> group.stream().map(TraceJob::durationSeconds).distinct().count() == 1).count() / (double) sweeps.size();
    }

    @Test
    void refusesBadArgumentsAndWritesNothing(@TempDir Path dir)
    {
        Path file = dir.resolve("trace.csv");
        BenchCliRun load = BenchCliRun.of("bench", "trace", "--load", "0", "--file", file.toString());
        assertThat(load.code()).isNotZero();
        assertThat(load.err()).contains("--load must be above 0 and at most 10: got 0.0");
        BenchCliRun jobs = BenchCliRun.of("bench", "trace", "--jobs", "0", "--file", file.toString());
        assertThat(jobs.err()).contains("--jobs must be from 1 to 10000000: got 0");
        BenchCliRun folder = BenchCliRun.of("bench", "trace", "--file", dir.resolve("missing").resolve("trace.csv").toString());
        assertThat(folder.err()).contains("the folder does not exist");
        assertThat(file).doesNotExist();
    }
}
