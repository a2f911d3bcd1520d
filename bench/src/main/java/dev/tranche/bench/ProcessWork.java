package dev.tranche.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * What a JVM had spent at one moment: CPU time, time compiling (JIT) and collection pauses, so that a
 * benchmark can say how busy the server and its own load generator were over a measured window. On a
 * machine with two cores the three processes (server, PostgreSQL, generator) share them, and a
 * latency figure means little without the CPU it was measured under.
 */
record ProcessWork(long atNanos, long cpuNanos, long jitMillis, long gcPauses, double gcPauseSeconds)
{
    /** This JVM's own figures (the load generator's). */
    static ProcessWork ofThisJvm()
    {
        long cpu = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
        var compilation = ManagementFactory.getCompilationMXBean();
        long jit = compilation != null && compilation.isCompilationTimeMonitoringSupported() ? compilation.getTotalCompilationTime() : -1;
        long pauses = 0;
        long pauseMillis = 0;
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            pauses += Math.max(0, collector.getCollectionCount());
            pauseMillis += Math.max(0, collector.getCollectionTime());
        }
        return new ProcessWork(System.nanoTime(), cpu, jit, pauses, pauseMillis / 1000.0);
    }

    Delta since(ProcessWork before)
    {
        return new Delta((atNanos - before.atNanos) / 1e9, cpuNanos < 0 || before.cpuNanos < 0 ? -1 : cpuNanos - before.cpuNanos,
                jitMillis < 0 || before.jitMillis < 0 ? -1 : jitMillis - before.jitMillis, gcPauses - before.gcPauses, gcPauseSeconds - before.gcPauseSeconds);
    }

    /** The work between two moments; -1 where the JVM does not report it. */
    record Delta(double seconds, long cpuNanos, long jitMillis, long gcPauses, double gcPauseSeconds)
    {
        /** CPU used, in percent of one core (200 is both cores of a 2-core machine). */
        double cpuPercent()
        {
            return cpuNanos < 0 || seconds <= 0 ? Double.NaN : 100 * cpuNanos / 1e9 / seconds;
        }

        /** "71% of a core, JIT 120 ms, 12 GC pauses 95 ms" */
        String summary()
        {
            return String.format(Locale.ROOT, "%.0f%% of a core, JIT compiling %s ms, %d GC pauses %.0f ms", cpuPercent(), jitMillis < 0 ? "?" : Long.toString(jitMillis),
                    gcPauses, gcPauseSeconds * 1000);
        }

        String json()
        {
            return String.format(Locale.ROOT, "{\"seconds\": %.1f, \"cpu_percent_of_a_core\": %.1f, \"jit_ms\": %d, \"gc_pauses\": %d, \"gc_pause_ms\": %.1f}",
                    seconds, cpuPercent(), jitMillis, gcPauses, gcPauseSeconds * 1000);
        }
    }
}
