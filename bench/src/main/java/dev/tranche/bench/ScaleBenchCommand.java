package dev.tranche.bench;

import dev.tranche.scheduler.core.placement.PlacementPolicies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "scale", description =
        "A synthetic cluster of N nodes x 8 GPUs and M pending experiments (fractions, whole GPUs, gangs): "
        + "placements per second while draining the backlog on one thread, then cycle latency while experiments "
        + "arrive and finish at --arrivals per second with the whole undrained backlog still queued; then a reclaim "
        + "on a full cluster, each repetition a fresh cycle over a freshly built snapshot (cold).")
public final class ScaleBenchCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "10000", description = "Nodes of 8 GPUs (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--pending", defaultValue = "100000", description = "Experiments waiting at the start (default: ${DEFAULT-VALUE}).")
    int pending;

    @Option(names = "--arrivals", defaultValue = "1000", description = "Submissions (and completions) per second in the steady phase (default: ${DEFAULT-VALUE}).")
    int arrivals;

    @Option(names = "--steady-cycles", defaultValue = "300", description = "One-second cycles measured in the steady phase (default: ${DEFAULT-VALUE}; enough that the p99 takes in the garbage collections).")
    int steadyCycles;

    @Option(names = "--steady-warmup", defaultValue = "300", description = {
            "Steady cycles run before the measured ones, untimed, as in a server that has been up a while (default: ${DEFAULT-VALUE});",
            "the first --steady-cycles after the drain are reported beside."})
    int steadyWarmup;

    @Option(names = "--policy", defaultValue = "fgd", description = "Placement policy (default: ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--reclaim-nodes", defaultValue = "500", description = "Nodes of the full cluster in the reclaim case (default: ${DEFAULT-VALUE}; 0 skips it).")
    int reclaimNodes;

    @Option(names = "--reclaim-running", defaultValue = "4000", description = "Over-quota experiments running there (default: ${DEFAULT-VALUE}).")
    int reclaimRunning;

    @Option(names = "--reclaim-repetitions", defaultValue = "100", description = "Cold reclaim cycles measured (default: ${DEFAULT-VALUE}).")
    int reclaimRepetitions;

    @Option(names = "--reclaim-warmup", defaultValue = "1000", description = "Cold reclaim cycles run before the measured ones, so that the JIT has compiled "
            + "the cycle as in a server that has run a while; the first --reclaim-repetitions are reported beside (default: ${DEFAULT-VALUE}).")
    int reclaimWarmup;

    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Option(names = "--line-window", defaultValue = "16",
            description = "Experiments of each line of alike work a cycle considers at first, as the server's loop (default: ${DEFAULT-VALUE}).")
    int lineWindow;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Override
    public Integer call()
    {
        if (!output.equals("table") && !output.equals("json")) {
            throw new ParameterException(spec.commandLine(), "--output must be table or json: got " + output);
        }
        if (lineWindow < 1 || lineWindow > 1_000_000) {
            throw new ParameterException(spec.commandLine(), "--line-window must be 1..1000000: got " + lineWindow);
        }
        if (!PlacementPolicies.names().contains(policy)) {
            throw new ParameterException(spec.commandLine(), "--policy must be one of " + String.join(", ", PlacementPolicies.names()) + ": got " + policy);
        }
        if (nodes < 1 || nodes > 100_000 || pending < 0 || pending > 1_000_000 || arrivals < 0 || steadyCycles < 0 || steadyCycles > 3600
                || steadyWarmup < 0 || steadyWarmup > 100_000) {
            throw new ParameterException(spec.commandLine(), "need 1..100000 nodes, 0..1000000 pending, arrivals >= 0, 0..3600 steady cycles and 0..100000 warm-up cycles");
        }
        if (reclaimNodes < 0 || reclaimRepetitions < 1 || reclaimWarmup < 0 || reclaimWarmup > 1_000_000) {
            throw new ParameterException(spec.commandLine(), "need --reclaim-nodes >= 0, --reclaim-repetitions >= 1 and --reclaim-warmup 0..1000000");
        }
        ScaleBenchmark.Result result = ScaleBenchmark.run(nodes, pending, arrivals, steadyCycles, steadyWarmup, policy, seed, lineWindow);
        ScaleBenchmark.ReclaimResult reclaim = reclaimNodes > 0 ? ScaleBenchmark.reclaim(reclaimNodes, reclaimRunning, reclaimRepetitions, reclaimWarmup, seed) : null;
        PrintWriter out = spec.commandLine().getOut();
        if (output.equals("json")) {
            out.printf(Locale.ROOT, "{\"nodes\": %d, \"pending\": %d, \"placed\": %d, \"drain_seconds\": %.3f, \"placements_per_second\": %.0f, "
                            + "\"decisions_per_second\": %.0f, \"steady_cycles\": %d, \"steady_pending_at_start\": %d, \"steady_pending_mean\": %.0f, "
                            + "\"steady_placed_per_cycle\": %.1f, \"steady_placements_per_second\": %.0f, "
                            + "\"cycle_p50_ms\": %.2f, \"cycle_p99_ms\": %.2f, \"cycle_max_ms\": %.2f, \"cycle_cpu_p50_ms\": %.2f, "
                            + "\"drain_cycles\": %d, \"steady_considered_mean\": %.0f, \"lines\": %d, \"steady_warmup\": %d, "
                            + "\"first_cycles_p50_ms\": %.2f, \"first_cycles_p99_ms\": %.2f, "
                            + "\"cycles_with_collection\": %d, \"collection_ms\": %.0f, \"cycle_p99_without_collection_ms\": %.2f, \"allocated_mb_per_cycle\": %s%s}%n",
                    result.nodes(), result.pending(), result.placed(), result.drainSeconds(), result.placementsPerSecond(), result.decisionsPerSecond(),
                    result.steadyCycles(), result.steadyPendingAtStart(), result.steadyPendingMean(), result.steadyPlacedPerCycle(), result.steadyPlacementsPerSecond(),
                    result.cycleP50Millis(), result.cycleP99Millis(), result.cycleMaxMillis(), result.cycleCpuP50Millis(),
                    result.drainCycles(), result.steadyConsideredMean(), result.lines(),
                    result.steadyWarmup(), result.firstCycleP50Millis(), result.firstCycleP99Millis(),
                    result.cyclesWithCollection(), result.collectionMillis(), result.cycleP99WithoutCollectionMillis(),
                    Double.isNaN(result.allocatedMbPerCycle()) ? "null" : String.format(Locale.ROOT, "%.2f", result.allocatedMbPerCycle()),
                    reclaim == null ? "" : String.format(Locale.ROOT, ", \"reclaim_nodes\": %d, \"reclaim_running\": %d, \"reclaim_cold_p50_ms\": %.2f, "
                                    + "\"reclaim_cold_p99_ms\": %.2f, \"reclaim_cold_cpu_p50_ms\": %.2f, \"reclaim_warm_p50_ms\": %.2f, \"reclaim_victims\": %d, "
                                    + "\"reclaim_warmup\": %d, \"reclaim_first_cycles_p50_ms\": %.2f, \"reclaim_first_cycles_p99_ms\": %.2f",
                            reclaim.nodes(), reclaim.running(), reclaim.cycleMillis(), reclaim.cycleP99Millis(), reclaim.cycleCpuMillis(), reclaim.warmCycleMillis(),
                            reclaim.victims(), reclaim.warmup(), reclaim.firstCycleMillis(), reclaim.firstCycleP99Millis()));
        }
        else {
            out.printf(Locale.ROOT, "drain: %d nodes x 8 GPUs, %d pending -> %d placed in %d cycles, %.2f s: %.0f placements/s (%.0f decisions/s, refusals included)%n",
                    result.nodes(), result.pending(), result.placed(), result.drainCycles(), result.drainSeconds(), result.placementsPerSecond(), result.decisionsPerSecond());
            out.printf(Locale.ROOT, "steady: %d cycles at %d arrivals/s and as many completions after %d more, full backlog kept (%d queued at start, %.0f per cycle on average, "
                            + "in %d lines; a cycle considered %.0f):%n"
                            + "        cycle p50 %.1f ms, p99 %.1f ms, max %.1f ms (CPU p50 %.1f ms); %.1f placed per cycle%n"
                            + "        garbage collected during %d of them (%.0f ms of collection in all); p99 of the others %.1f ms; %s allocated per cycle%n"
                            + "        the first %d after the drain: p50 %.1f ms, p99 %.1f ms%n",
                    result.steadyCycles(), arrivals, result.steadyWarmup(), result.steadyPendingAtStart(), result.steadyPendingMean(), result.lines(), result.steadyConsideredMean(),
                    result.cycleP50Millis(), result.cycleP99Millis(), result.cycleMaxMillis(), result.cycleCpuP50Millis(), result.steadyPlacedPerCycle(),
                    result.cyclesWithCollection(), result.collectionMillis(), result.cycleP99WithoutCollectionMillis(),
                    Double.isNaN(result.allocatedMbPerCycle()) ? "(not known)" : String.format(Locale.ROOT, "%.1f MB", result.allocatedMbPerCycle()),
                    result.steadyCycles(), result.firstCycleP50Millis(), result.firstCycleP99Millis());
            if (reclaim != null) {
                out.printf(Locale.ROOT, "reclaim: %d full nodes, %d over-quota experiments running: cold cycle p50 %.2f ms, p99 %.2f ms after %d cold cycles "
                                + "(the first %d after the start: p50 %.2f ms, p99 %.2f ms; warm rerun of one snapshot %.2f ms), %d victims, placed: %s%n",
                        reclaim.nodes(), reclaim.running(), reclaim.cycleMillis(), reclaim.cycleP99Millis(), reclaim.warmup(), reclaimRepetitions,
                        reclaim.firstCycleMillis(), reclaim.firstCycleP99Millis(), reclaim.warmCycleMillis(), reclaim.victims(), reclaim.placed());
            }
        }
        out.flush();
        return 0;
    }
}
