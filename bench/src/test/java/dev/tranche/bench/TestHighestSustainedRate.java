package dev.tranche.bench;

import dev.tranche.bench.SubmitBenchCommand.OpenLoopResult;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class TestHighestSustainedRate
{
    private static OpenLoopResult rate(int offered, double p99Millis, long failed)
    {
        return new OpenLoopResult(offered, 20, offered * 20L, offered * 20L - failed, failed, offered * 20L - failed, offered, 1.0, p99Millis, p99Millis, p99Millis,
                Optional.empty());
    }

    @Test
    void aRateThatPassesAboveOneThatFailedIsNotSustained()
    {
        // given in the order they ran, not sorted: 3,000/s passed by luck after 2,000/s missed
        List<OpenLoopResult> results = List.of(rate(3000, 44.0, 0), rate(1000, 12.0, 0), rate(2000, 61.0, 0));

        assertThat(SubmitBenchCommand.highestSustained(results, 50.0)).map(OpenLoopResult::offeredPerSecond).contains(1000);
    }

    @Test
    void aFailedSubmissionStopsTheRunAsALateOneDoes()
    {
        List<OpenLoopResult> results = List.of(rate(1000, 12.0, 0), rate(2000, 20.0, 1), rate(3000, 30.0, 0));

        assertThat(SubmitBenchCommand.highestSustained(results, 50.0)).map(OpenLoopResult::offeredPerSecond).contains(1000);
        assertThat(SubmitBenchCommand.highestSustained(List.of(rate(500, 50.0, 0)), 50.0)).isEmpty();
    }
}
