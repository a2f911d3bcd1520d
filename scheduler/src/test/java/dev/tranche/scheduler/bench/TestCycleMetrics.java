package dev.tranche.scheduler.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestCycleMetrics
{
    private static String exposition(long fast, long slow, String readBuckets)
    {
        return """
                # HELP tranche_scheduling_cycle_seconds Time of one scheduling cycle
                # TYPE tranche_scheduling_cycle_seconds histogram
                tranche_scheduling_cycle_seconds_bucket{le="0.05"} %1$d
                tranche_scheduling_cycle_seconds_bucket{le="0.1"} %1$d
                tranche_scheduling_cycle_seconds_bucket{le="0.2"} %2$d
                tranche_scheduling_cycle_seconds_bucket{le="+Inf"} %2$d
                tranche_scheduling_cycle_seconds_count %2$d
                tranche_scheduling_cycle_seconds_sum %3$s
                tranche_scheduling_cycle_phase_seconds_bucket{phase="store",le="0.1"} %2$d
                tranche_scheduling_cycle_phase_seconds_bucket{phase="store",le="+Inf"} %2$d
                tranche_scheduling_cycle_phase_seconds_count{phase="store"} %2$d
                tranche_scheduling_cycle_phase_seconds_sum{phase="store"} 0.01
                %4$s
                tranche_queue_length{project="a"} 7.0
                tranche_queue_length{project="b"} 5.0
                """.formatted(fast, fast + slow, Double.toString(fast * 0.04 + slow * 0.15), readBuckets);
    }

    @Test
    void aWindowHoldsOnlyTheCyclesBetweenTwoReadsWithPhasesInCycleOrder()
    {
        String readBefore = """
                tranche_scheduling_cycle_phase_seconds_bucket{phase="read",le="0.1"} 10
                tranche_scheduling_cycle_phase_seconds_bucket{phase="read",le="+Inf"} 10
                tranche_scheduling_cycle_phase_seconds_count{phase="read"} 10
                tranche_scheduling_cycle_phase_seconds_sum{phase="read"} 0.2""";
        String readAfter = """
                tranche_scheduling_cycle_phase_seconds_bucket{phase="read",le="0.1"} 108
                tranche_scheduling_cycle_phase_seconds_bucket{phase="read",le="+Inf"} 110
                tranche_scheduling_cycle_phase_seconds_count{phase="read"} 110
                tranche_scheduling_cycle_phase_seconds_sum{phase="read"} 2.2""";
        CycleMetrics.Snapshot before = CycleMetrics.parse(exposition(10, 0, readBefore));
        CycleMetrics.Snapshot after = CycleMetrics.parse(exposition(107, 3, readAfter));
        CycleMetrics.Window window = after.since(before);

        assertThat(window.cycles()).isEqualTo(100);
        assertThat(window.percentWithinTarget()).isCloseTo(97.0, within(1e-9));
        assertThat(window.quantileBound(0.50)).isEqualTo("50.0");
        assertThat(window.quantileBound(0.99)).isEqualTo("200.0");
        assertThat(window.queued()).isEqualTo(12);
        assertThat(window.phases().keySet()).containsExactly("read", "store");
        assertThat(window.phases().get("read").count()).isEqualTo(100);
        assertThat(window.phases().get("read").meanMillis()).isCloseTo(20.0, within(1e-9));
        assertThat(window.phases().get("read").quantileBound(0.99)).isEqualTo("> 100");
        assertThat(window.phaseJson()).startsWith("{\"read\": {\"mean_ms\": 20.0, \"p99_bound_ms\": \"> 100\"}");
    }
}
