package dev.tranche.scheduler.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TestScaleBenchmark
{
    @Test
    void drainsABacklogAndRunsSteadyCycles()
    {
        ScaleBenchmark.Result result = ScaleBenchmark.run(20, 300, 10, 4, "fgd", 42);

        assertThat(result.placed()).isBetween(1, 300);
        assertThat(result.decisionsPerSecond()).isPositive();
        assertThat(result.steadyCycles()).isEqualTo(4);
        assertThat(result.cycleP50Millis()).isPositive().isLessThanOrEqualTo(result.cycleMaxMillis());
        assertThat(result.cycleP99Millis()).isLessThanOrEqualTo(result.cycleMaxMillis());
        // the steady state keeps what the drain could not place
        assertThat(result.steadyPendingAtStart()).isEqualTo(300 - result.placed());
        assertThat(result.steadyPendingMean()).isGreaterThanOrEqualTo(result.steadyPendingAtStart());
    }

    @Test
    void reclaimEvictsTwoWholeNodesWorthOfBorrowers()
    {
        ScaleBenchmark.ReclaimResult result = ScaleBenchmark.reclaim(4, 32, 2, 42);

        assertThat(result.placed()).isTrue();
        // a gang of two 8-GPU replicas needs two nodes emptied of their eight 1-GPU borrowers
        assertThat(result.victims()).isEqualTo(16);
        assertThat(result.cycleP99Millis()).isGreaterThanOrEqualTo(result.cycleMillis());
    }
}
