package dev.tranche.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TestScaleBenchmark
{
    @Test
    void drainsABacklogAndRunsSteadyCycles()
    {
        ScaleBenchmark.Result result = ScaleBenchmark.run(20, 300, 10, 4, "fgd", 42);

        // the backlog asks about 490 GPUs of a 160-GPU cluster: the drain fills it and leaves the rest waiting
        assertThat(result.placed()).isLessThan(300);
        assertThat(ScaleBenchmark.run(20, 300, 10, 4, "fgd", 42).placed()).as("one seed, one outcome").isEqualTo(result.placed());
        // a cluster twice the size places more of the same backlog, and one five times the size places all of it
        assertThat(ScaleBenchmark.run(40, 300, 10, 4, "fgd", 42).placed()).isGreaterThan(result.placed());
        ScaleBenchmark.Result roomy = ScaleBenchmark.run(100, 300, 10, 4, "fgd", 42);
        assertThat(roomy.placed()).isEqualTo(300);
        assertThat(roomy.steadyPendingAtStart()).isZero();
        // each steady second frees what 10 finished experiments held, and the waiting backlog takes it up
        assertThat(result.steadyPlacedPerCycle()).isPositive();
        assertThat(result.decisionsPerSecond()).isPositive();
        assertThat(result.steadyCycles()).isEqualTo(4);
        assertThat(result.cycleP50Millis()).isPositive().isLessThanOrEqualTo(result.cycleMaxMillis());
        assertThat(result.cycleP99Millis()).isLessThanOrEqualTo(result.cycleMaxMillis());
        // the cycles are split by whether the JVM collected garbage during them: the others' p99 is the cycle's own tail
        assertThat(result.cyclesWithCollection()).isBetween(0, 4);
        assertThat(result.collectionMillis()).isNotNegative();
        assertThat(result.cycleP99WithoutCollectionMillis()).isLessThanOrEqualTo(result.cycleMaxMillis());
        // HotSpot counts what the cycle's thread allocated
        assertThat(result.allocatedMbPerCycle()).isPositive();
        // the steady state keeps what the drain could not place
        assertThat(result.steadyPendingAtStart()).isEqualTo(300 - result.placed());
        assertThat(result.steadyPendingMean()).isGreaterThanOrEqualTo(result.steadyPendingAtStart());
    }

    /** Steady cycles measured after a warm-up, the first ones after the drain reported beside; with none, they are the measured ones. */
    @Test
    void steadyCyclesAreMeasuredAfterTheirWarmUp()
    {
        ScaleBenchmark.Result warmed = ScaleBenchmark.run(20, 300, 10, 4, 6, "fgd", 42, ScaleBenchmark.DEFAULT_LINE_WINDOW);
        assertThat(warmed.steadyWarmup()).isEqualTo(6);
        assertThat(warmed.steadyCycles()).isEqualTo(4);
        assertThat(warmed.firstCycleP99Millis()).isGreaterThanOrEqualTo(warmed.firstCycleP50Millis()).isPositive();
        // the drain is the same whatever comes after it
        assertThat(warmed.placed()).isEqualTo(ScaleBenchmark.run(20, 300, 10, 4, "fgd", 42).placed());

        ScaleBenchmark.Result cold = ScaleBenchmark.run(20, 300, 10, 4, 0, "fgd", 42, ScaleBenchmark.DEFAULT_LINE_WINDOW);
        assertThat(cold.firstCycleP50Millis()).isEqualTo(cold.cycleP50Millis());
        assertThat(cold.firstCycleP99Millis()).isEqualTo(cold.cycleP99Millis());
    }

    @Test
    void reclaimEvictsTwoWholeNodesWorthOfBorrowers()
    {
        ScaleBenchmark.ReclaimResult result = ScaleBenchmark.reclaim(4, 32, 2, 3, 42);

        assertThat(result.placed()).isTrue();
        // a gang of two 8-GPU replicas needs two nodes emptied of their eight 1-GPU borrowers
        assertThat(result.victims()).isEqualTo(16);
        assertThat(result.cycleP99Millis()).isGreaterThanOrEqualTo(result.cycleMillis());
        // measured after the warm-up, with the first cycles after the start reported beside
        assertThat(result.warmup()).isEqualTo(3);
        assertThat(result.firstCycleP99Millis()).isGreaterThanOrEqualTo(result.firstCycleMillis()).isPositive();
    }

    /** --reclaim-warmup 0 measures from the first cycle: the first cycles are then the measured ones. */
    @Test
    void noWarmUpMeasuresTheFirstCycles()
    {
        ScaleBenchmark.ReclaimResult result = ScaleBenchmark.reclaim(4, 32, 3, 0, 42);

        assertThat(result.warmup()).isZero();
        assertThat(result.cycleMillis()).isEqualTo(result.firstCycleMillis());
        assertThat(result.cycleP99Millis()).isEqualTo(result.firstCycleP99Millis());
    }
}
