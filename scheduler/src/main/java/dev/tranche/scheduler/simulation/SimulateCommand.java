package dev.tranche.scheduler.simulation;

import com.google.gson.GsonBuilder;
import dev.tranche.cli.FileReplacement;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import dev.tranche.scheduler.outcome.Outcomes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "simulate", description = {
        "Replays a job trace through the scheduling core in virtual time and reports the outcomes per policy.",
        "",
        "The trace runs through the scheduler's own scheduling core on a simulated cluster (no database); the report gives "
                + "completion times, waits, allocation, preemption cost and fairness per policy. Policies: fifo, las (least attained "
                + "service, preemptive), sjf-oracle (knows durations) and tranche (the server's configuration: quotas, fair share, "
                + "reclaim, aging, gangs, placement). See docs/simulate.md."})
public final class SimulateCommand
        implements Callable<Integer>
{
    private static final double MAX_RESTART_DELAY_SECONDS = 86_400;

    @Spec
    CommandSpec spec;

    @Option(names = "--trace", paramLabel = "FILE", required = true, description = "The trace file (philly.csv, or a Tranche CSV as `tranche history export` writes).")
    Path trace;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "philly", description = "philly or tranche (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--nodes", paramLabel = "N", required = true, description = "Number of identical nodes.")
    int nodes;

    @Option(names = "--gpus-per-node", paramLabel = "G", required = true, description = "GPUs per node.")
    int gpusPerNode;

    @Option(names = "--policy", paramLabel = "NAME", defaultValue = "tranche", description = "fifo, las, sjf-oracle, tranche, or all (default: ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--quotas", paramLabel = "FILE", description = "Quotas YAML for the tranche policy (default: each team deserves its share of the trace's GPU-time).")
    Path quotas;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION", defaultValue = "30m",
            description = "Run time between checkpoints; a preempted job loses the work since its last one (default: ${DEFAULT-VALUE}).")
    String checkpointInterval;

    @Option(names = "--restart-delay", paramLabel = "DURATION", defaultValue = "1m", description = "Time a preempted job needs to start again (default: ${DEFAULT-VALUE}).")
    String restartDelay;

    @Option(names = "--placement", paramLabel = "NAME", defaultValue = PlacementPolicies.DEFAULT, description = "Placement policy (default: ${DEFAULT-VALUE}, as the server).")
    String placement;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--report", paramLabel = "FILE.html", description = "Also write one self-contained HTML page with charts.")
    Path report;

    @Override
    public Integer call()
    {
        if (!output.equals("table") && !output.equals("json")) {
            throw new ParameterException(spec.commandLine(), "--output must be table or json: got " + output);
        }
        if (!TraceReader.FORMATS.contains(format)) {
            throw new ParameterException(spec.commandLine(), "--format must be one of " + String.join(", ", TraceReader.FORMATS) + ": got " + format);
        }
        if (nodes < 1 || nodes > 100_000) {
            throw new ParameterException(spec.commandLine(), "--nodes must be from 1 to 100000: got " + nodes);
        }
        if (gpusPerNode < 1 || gpusPerNode > 1024) {
            throw new ParameterException(spec.commandLine(), "--gpus-per-node must be from 1 to 1024: got " + gpusPerNode);
        }
        List<String> policies = policy.equals("all") ? Simulator.POLICIES : List.of(policy);
        if (!policy.equals("all") && !Simulator.POLICIES.contains(policy)) {
            throw new ParameterException(spec.commandLine(), "--policy must be one of " + String.join(", ", Simulator.POLICIES) + " or all: got " + policy);
        }
        if (!PlacementPolicies.names().contains(placement)) {
            throw new ParameterException(spec.commandLine(), "--placement must be one of " + String.join(", ", PlacementPolicies.names()) + ": got " + placement);
        }
        double checkpoint = seconds("--checkpoint-interval", checkpointInterval);
        if (!(checkpoint > 0 && checkpoint <= TraceReader.MAX_SECONDS)) {
            throw new ParameterException(spec.commandLine(), "--checkpoint-interval must be longer than 0 and at most 3650d (10 years, the longest job a trace may have): got "
                    + checkpointInterval);
        }
        double restart = seconds("--restart-delay", restartDelay);
        // every restart adds it to the replay's time line, which the report counts hour by hour
        if (!(restart >= 0 && restart <= MAX_RESTART_DELAY_SECONDS)) {
            throw new ParameterException(spec.commandLine(), "--restart-delay must be from 0 to 24h: got " + restartDelay);
        }
        if (!Files.isRegularFile(trace)) {
            throw new ParameterException(spec.commandLine(), "--trace " + trace + ": no such file");
        }
        if (quotas != null && !Files.isRegularFile(quotas)) {
            throw new ParameterException(spec.commandLine(), "--quotas " + quotas + ": no such file");
        }
        if (report != null && (report.getParent() != null && !Files.isDirectory(report.getParent()))) {
            throw new ParameterException(spec.commandLine(), "--report " + report + ": the folder does not exist");
        }
        List<TraceJob> jobs;
        Optional<QuotaFile> quotaFile;
        try {
            jobs = TraceReader.read(trace, format, gpusPerNode);
            quotaFile = quotas == null ? Optional.empty() : Optional.of(QuotaFile.read(quotas));
        }
        catch (TraceFormatException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Simulator.Result> results = new ArrayList<>();
        if (output.equals("table")) {
            out.printf(Locale.ROOT, "%d jobs, %d nodes x %d GPUs, placement %s%n", jobs.size(), nodes, gpusPerNode, placement);
            out.printf(Locale.ROOT, "%-11s %9s %9s %9s %9s %9s %9s %7s %7s %9s %7s %7s%n",
                    "POLICY", "AVG JCT", "P50 JCT", "P95 JCT", "P99 JCT", "AVG WAIT", "P95 WAIT", "ALLOC", "PREEMPT", "LOST GPUh", "JAIN", "WALL s");
            out.flush();
        }
        for (String name : policies) {
            Simulator.Settings settings = new Simulator.Settings(nodes, gpusPerNode, name, quotaFile, checkpoint, restart, placement);
            Simulator.Result result = new Simulator(jobs, settings, Simulator.CycleCheck.NONE).run();
            results.add(result);
            if (output.equals("table")) {
                Outcomes.Summary s = result.summary();
                out.printf(Locale.ROOT, "%-11s %9s %9s %9s %9s %9s %9s %6.1f%% %7d %9.1f %7.3f %7.1f%n", name,
                        hours(s.avgJctSeconds()), hours(s.p50JctSeconds()), hours(s.p95JctSeconds()), hours(s.p99JctSeconds()),
                        hours(s.avgWaitSeconds()), hours(s.p95WaitSeconds()), 100 * s.gpuAllocation(), s.preemptions(), s.lostGpuHours(),
                        s.jainFairness(), result.wallSeconds());
                out.flush();
            }
        }
        if (output.equals("table")) {
            out.println("times in hours; ALLOC = time-averaged share of GPUs allocated; JAIN = mean hourly Jain index of received/deserved");
            for (Simulator.Result result : results) {
                if (result.summary().jobs() + result.dropped() < jobs.size()) {
                    continue;
                }
                if (result.dropped() > 0) {
                    out.printf(Locale.ROOT, "%s: %d jobs larger than the cluster dropped%n", result.policy(), result.dropped());
                }
            }
        }
        else {
            out.println(new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(json(results)));
        }
        out.flush();
        if (report != null) {
            try {
                FileReplacement.writeString(report, SimulationReport.html(trace.getFileName().toString(), nodes, gpusPerNode, results));
            }
            catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "--report " + report + ": cannot write (" + e.getMessage() + ")");
            }
            if (output.equals("table")) {
                out.println("report written to " + report);
            }
        }
        return 0;
    }

    private static String hours(double seconds)
    {
        return String.format(Locale.ROOT, "%.2f", seconds / 3600);
    }

    static List<Map<String, Object>> json(List<Simulator.Result> results)
    {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Simulator.Result result : results) {
            Outcomes.Summary s = result.summary();
            Map<String, Object> object = new LinkedHashMap<>();
            object.put("policy", result.policy());
            object.put("jobs", s.jobs());
            object.put("dropped", result.dropped());
            object.put("avg_jct_seconds", s.avgJctSeconds());
            object.put("p50_jct_seconds", s.p50JctSeconds());
            object.put("p95_jct_seconds", s.p95JctSeconds());
            object.put("p99_jct_seconds", s.p99JctSeconds());
            object.put("avg_wait_seconds", s.avgWaitSeconds());
            object.put("p95_wait_seconds", s.p95WaitSeconds());
            object.put("makespan_seconds", s.makespanSeconds());
            object.put("gpu_allocation", s.gpuAllocation());
            object.put("preemptions", s.preemptions());
            object.put("lost_gpu_hours", s.lostGpuHours());
            object.put("jain_fairness", s.jainFairness());
            List<Map<String, Object>> teams = new ArrayList<>();
            for (Outcomes.ProjectOutcome project : s.projects()) {
                Map<String, Object> team = new LinkedHashMap<>();
                team.put("project", project.project());
                team.put("jobs", project.jobs());
                team.put("avg_jct_seconds", project.avgJctSeconds());
                team.put("avg_wait_seconds", project.avgWaitSeconds());
                team.put("deserved_gpus", project.deservedGpus());
                team.put("received_gpu_hours", project.receivedGpuHours());
                team.put("deserved_gpu_hours", project.deservedGpuHours());
                teams.add(team);
            }
            object.put("projects", teams);
            object.put("cycles", result.cycles());
            object.put("wall_seconds", result.wallSeconds());
            list.add(object);
        }
        return list;
    }

    private double seconds(String flag, String text)
    {
        String value = text.strip().toLowerCase(Locale.ROOT);
        try {
            if (value.matches("\\d+(\\.\\d+)?(s|m|h|d)")) {
                double amount = Double.parseDouble(value.substring(0, value.length() - 1));
                return amount * switch (value.charAt(value.length() - 1)) {
                    case 's' -> 1;
                    case 'm' -> 60;
                    case 'h' -> 3600;
                    default -> 86_400;
                };
            }
            Duration duration = Duration.parse(text.strip());
            // seconds and nanoseconds apart: toMillis() overflows on a duration the bounds refuse anyway
            return duration.getSeconds() + duration.getNano() / 1e9;
        }
        catch (DateTimeParseException e) {
            throw new ParameterException(spec.commandLine(), flag + " must be a duration such as 30m, 90s, 2h or PT30M: got " + text);
        }
    }
}
