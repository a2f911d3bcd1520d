package dev.tranche.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestCycleMetrics
{
    private static String exposition(long fast, long slow, String queueBuckets)
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
                tranche_scheduling_view_age_seconds_bucket{le="0.1"} %1$d
                tranche_scheduling_view_age_seconds_bucket{le="+Inf"} %2$d
                tranche_scheduling_view_age_seconds_count %2$d
                tranche_scheduling_view_age_seconds_sum %3$s
                tranche_scheduling_view_read_seconds_bucket{le="0.05"} %2$d
                tranche_scheduling_view_read_seconds_bucket{le="+Inf"} %2$d
                tranche_scheduling_view_read_seconds_count %2$d
                tranche_scheduling_view_read_seconds_sum 0.5
                %4$s
                tranche_queue_length{project="a"} 7.0
                tranche_queue_length{project="b"} 5.0
                """.formatted(fast, fast + slow, Double.toString(fast * 0.04 + slow * 0.15), queueBuckets);
    }

    @Test
    void aWindowHoldsOnlyTheCyclesBetweenTwoReadsWithPhasesInCycleOrderAndTheViewsApart()
    {
        String queueBefore = """
                tranche_scheduling_cycle_phase_seconds_bucket{phase="queue",le="0.1"} 10
                tranche_scheduling_cycle_phase_seconds_bucket{phase="queue",le="+Inf"} 10
                tranche_scheduling_cycle_phase_seconds_count{phase="queue"} 10
                tranche_scheduling_cycle_phase_seconds_sum{phase="queue"} 0.2""";
        String queueAfter = """
                tranche_scheduling_cycle_phase_seconds_bucket{phase="queue",le="0.1"} 108
                tranche_scheduling_cycle_phase_seconds_bucket{phase="queue",le="+Inf"} 110
                tranche_scheduling_cycle_phase_seconds_count{phase="queue"} 110
                tranche_scheduling_cycle_phase_seconds_sum{phase="queue"} 2.2""";
        CycleMetrics.Snapshot before = CycleMetrics.parse(exposition(10, 0, queueBefore) + jvm(1.0e9, 400, 3, 0.030), 5_000_000_000L);
        CycleMetrics.Snapshot after = CycleMetrics.parse(exposition(107, 3, queueAfter) + jvm(15.0e9, 650, 7, 0.090), 25_000_000_000L);
        CycleMetrics.Window window = after.since(before);

        assertThat(window.cycles()).isEqualTo(100);
        assertThat(window.percentWithinTarget()).isCloseTo(97.0, within(1e-9));
        assertThat(window.quantileBound(0.50)).isEqualTo("50.0");
        assertThat(window.quantileBound(0.99)).isEqualTo("200.0");
        assertThat(window.queued()).isEqualTo(12);
        assertThat(window.phases().keySet()).containsExactly("queue", "store");
        assertThat(window.phases().get("queue").count()).isEqualTo(100);
        assertThat(window.phases().get("queue").meanMillis()).isCloseTo(20.0, within(1e-9));
        assertThat(window.phases().get("queue").quantileBound(0.99)).isEqualTo("> 100");
        // the view's age is a histogram apart from the cycle's phases: the cycle does not wait for it
        assertThat(window.viewAge().count()).isEqualTo(100);
        assertThat(window.viewAge().shareWithin(0.1)).isCloseTo(0.97, within(1e-9));
        assertThat(window.viewRead().count()).isEqualTo(100);
        assertThat(window.viewSummary()).startsWith("view age mean ").contains("97.0% within 100 ms; reads: 100");
        assertThat(window.viewJson()).contains("\"age_percent_within_100_ms\": 97.0", "\"reads\": 100");
        assertThat(window.phaseJson()).startsWith("{\"queue\": {\"mean_ms\": 20.0, \"p99_bound_ms\": \"> 100\"}");
        // the server's JVM over the same 20 s: 14 s of CPU is 70% of a core; collectors' series summed
        assertThat(window.server().cpuPercent()).isCloseTo(70.0, within(1e-9));
        assertThat(window.server().jitMillis()).isEqualTo(250);
        assertThat(window.server().gcPauses()).isEqualTo(4);
        assertThat(window.server().summary()).isEqualTo("70% of a core, JIT compiling 250 ms, 4 GC pauses 60 ms");
    }

    @Test
    void aServerWithoutJvmSeriesReportsItsCpuAsUnknown()
    {
        CycleMetrics.Window window = CycleMetrics.parse(exposition(1, 0, ""), 2_000_000_000L).since(CycleMetrics.parse(exposition(0, 0, ""), 1_000_000_000L));

        assertThat(window.server().cpuPercent()).isNaN();
        assertThat(window.server().summary()).startsWith("NaN% of a core, JIT compiling ? ms");
    }

    private static String jvm(double cpuNanos, long jitMillis, long youngPauses, double youngSeconds)
    {
        return """
                process_cpu_time_ns_total %s
                jvm_compilation_time_ms_total{compiler="HotSpot 64-Bit Tiered Compilers"} %d
                jvm_gc_pause_seconds_count{action="end of minor GC",cause="G1 Evacuation Pause",gc="G1 Young Generation"} %d
                jvm_gc_pause_seconds_sum{action="end of minor GC",cause="G1 Evacuation Pause",gc="G1 Young Generation"} %s
                jvm_gc_pause_seconds_max{action="end of minor GC",cause="G1 Evacuation Pause",gc="G1 Young Generation"} 0.5
                jvm_gc_pause_seconds_count{action="end of minor GC",cause="Metadata GC Threshold",gc="G1 Young Generation"} 1
                jvm_gc_pause_seconds_sum{action="end of minor GC",cause="Metadata GC Threshold",gc="G1 Young Generation"} 0.01
                """.formatted(Double.toString(cpuNanos), jitMillis, youngPauses, Double.toString(youngSeconds));
    }
}
