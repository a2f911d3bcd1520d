package dev.tranche.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/**
 * Reads a running scheduler's scheduling-cycle histograms from its Prometheus endpoint: the whole cycle
 * ({@code tranche_scheduling_cycle_seconds}), each of its phases ({@code
 * tranche_scheduling_cycle_phase_seconds{phase=...}}), the age of the view of the store each cycle
 * decided from and the reads that made those views ({@code tranche_scheduling_view_age_seconds},
 * {@code tranche_scheduling_view_read_seconds}: where the database's latency goes) and the queue lengths, so that a benchmark can say
 * how long the real server's cycles took, and where, while it drove load. Quantiles are bucket bounds:
 * "p99 <= 105 ms" means the 99th percentile cycle fell in the bucket ending there; the share of cycles
 * within 100 ms is exact (the histogram has a bound there).
 */
final class CycleMetrics
{
    private static final String CYCLE = "tranche_scheduling_cycle_seconds";
    private static final String PHASE = "tranche_scheduling_cycle_phase_seconds";
    private static final String QUEUE = "tranche_queue_length{";
    // the view each cycle decided from: its age at the cycle's start, and the reads that made the views
    private static final String VIEW_AGE = "tranche_scheduling_view_age_seconds";
    private static final String VIEW_READ = "tranche_scheduling_view_read_seconds";
    // the server JVM's own work (Micrometer's JVM binders): CPU, JIT, collection pauses
    private static final String CPU = "process_cpu_time_ns_total";
    private static final String JIT = "jvm_compilation_time_ms_total";
    private static final String GC_PAUSE = "jvm_gc_pause_seconds";
    static final double TARGET_SECONDS = 0.1;

    private final URI uri;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    CycleMetrics(URI uri, String token)
    {
        this.uri = requireNonNull(uri, "uri is null");
        this.token = requireNonNull(token, "token is null");
    }

    /** One histogram: cumulative counts by bucket upper bound (seconds), total count, total seconds. */
    record Histogram(TreeMap<Double, Long> buckets, long count, double sumSeconds)
    {
        static Histogram empty()
        {
            return new Histogram(new TreeMap<>(), 0, 0);
        }

        Histogram minus(Histogram before)
        {
            TreeMap<Double, Long> delta = new TreeMap<>();
            buckets.forEach((bound, count) -> delta.put(bound, count - before.buckets().getOrDefault(bound, 0L)));
            return new Histogram(delta, count - before.count(), sumSeconds - before.sumSeconds());
        }

        double meanMillis()
        {
            return count == 0 ? Double.NaN : sumSeconds * 1000 / count;
        }

        /** Upper bound (ms) of the bucket holding the quantile, "-" without observations, "> last" past the last bound. */
        String quantileBound(double quantile)
        {
            if (count == 0) {
                return "-";
            }
            long rank = (long) Math.ceil(quantile * count);
            for (Map.Entry<Double, Long> bucket : buckets.entrySet()) {
                if (bucket.getValue() >= rank) {
                    return Double.isInfinite(bucket.getKey()) ? "> " + String.format(Locale.ROOT, "%.0f", buckets.lowerKey(bucket.getKey()) * 1000)
                            : String.format(Locale.ROOT, "%.1f", bucket.getKey() * 1000);
                }
            }
            return "?";
        }

        /** The share of observations at or under {@code seconds}, which must be one of the bounds. */
        double shareWithin(double seconds)
        {
            Long within = buckets.get(seconds);
            return count == 0 || within == null ? Double.NaN : (double) within / count;
        }
    }

    /** What /metrics said at one moment. */
    record Snapshot(Histogram cycle, Map<String, Histogram> phases, Histogram viewAge, Histogram viewRead, long queued, ProcessWork server)
    {
        Window since(Snapshot before)
        {
            Map<String, Histogram> phaseDeltas = new LinkedHashMap<>();
            phases.forEach((phase, histogram) -> phaseDeltas.put(phase, histogram.minus(before == null ? Histogram.empty() : before.phases().getOrDefault(phase, Histogram.empty()))));
            return new Window(cycle.minus(before == null ? Histogram.empty() : before.cycle()), phaseDeltas,
                    viewAge.minus(before == null ? Histogram.empty() : before.viewAge()), viewRead.minus(before == null ? Histogram.empty() : before.viewRead()), queued,
                    server.since(before == null ? new ProcessWork(server.atNanos(), 0, 0, 0, 0) : before.server()));
        }
    }

    /** The cycles between two snapshots, and what the server's JVM spent meanwhile. */
    record Window(Histogram cycle, Map<String, Histogram> phases, Histogram viewAge, Histogram viewRead, long queued, ProcessWork.Delta server)
    {
        long cycles()
        {
            return cycle.count();
        }

        double meanMillis()
        {
            return cycle.meanMillis();
        }

        String quantileBound(double quantile)
        {
            return cycle.quantileBound(quantile);
        }

        /** The share of cycles that took at most the target (100 ms), in percent. */
        double percentWithinTarget()
        {
            return 100 * cycle.shareWithin(TARGET_SECONDS);
        }

        /** "read p99 <= 30.0 ms (mean 8.1), queue ..." */
        String phaseSummary()
        {
            StringBuilder summary = new StringBuilder();
            phases.forEach((phase, histogram) -> summary.append(summary.isEmpty() ? "" : ", ")
                    .append(String.format(Locale.ROOT, "%s p99 <= %s ms (mean %.1f)", phase, histogram.quantileBound(0.99), histogram.meanMillis())));
            return summary.toString();
        }

        /** "view age mean 80.1 ms, p99 <= 357.9 ms, 71.0% within 100 ms; reads: 250, mean 60.2 ms, p99 <= 268.4 ms" */
        String viewSummary()
        {
            return String.format(Locale.ROOT, "view age mean %.1f ms, p99 <= %s ms, %.1f%% within 100 ms; reads: %d, mean %.1f ms, p99 <= %s ms",
                    viewAge.meanMillis(), viewAge.quantileBound(0.99), 100 * viewAge.shareWithin(TARGET_SECONDS), viewRead.count(), viewRead.meanMillis(),
                    viewRead.quantileBound(0.99));
        }

        String viewJson()
        {
            return String.format(Locale.ROOT, "{\"age_mean_ms\": %.1f, \"age_p99_bound_ms\": \"%s\", \"age_percent_within_100_ms\": %.1f, \"reads\": %d, "
                            + "\"read_mean_ms\": %.1f, \"read_p99_bound_ms\": \"%s\"}", viewAge.meanMillis(), viewAge.quantileBound(0.99),
                    100 * viewAge.shareWithin(TARGET_SECONDS), viewRead.count(), viewRead.meanMillis(), viewRead.quantileBound(0.99));
        }

        String phaseJson()
        {
            StringBuilder json = new StringBuilder("{");
            phases.forEach((phase, histogram) -> json.append(json.length() == 1 ? "" : ", ")
                    .append(String.format(Locale.ROOT, "\"%s\": {\"mean_ms\": %.1f, \"p99_bound_ms\": \"%s\"}", phase, histogram.meanMillis(), histogram.quantileBound(0.99))));
            return json.append('}').toString();
        }
    }

    Snapshot read()
    {
        String body;
        long at;
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("the scheduler's /metrics answered " + response.statusCode());
            }
            body = response.body();
            at = System.nanoTime();
        }
        catch (IOException e) {
            throw new IllegalStateException("cannot read the scheduler's /metrics: " + e.getMessage(), e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return parse(body, at);
    }

    /** {@code at}: when it was read ({@link System#nanoTime}), for the server's CPU share over a window. */
    static Snapshot parse(String body, long at)
    {
        Parts cycle = new Parts();
        Parts viewAge = new Parts();
        Parts viewRead = new Parts();
        Map<String, Parts> phases = new TreeMap<>();
        long queued = 0;
        long cpuNanos = -1;
        long jitMillis = -1;
        long gcPauses = 0;
        double gcPauseSeconds = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            double value = line.isBlank() ? 0 : Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            if (line.startsWith(CYCLE + "_")) {
                cycle.add(line.substring(CYCLE.length()), value);
            }
            else if (line.startsWith(PHASE + "_")) {
                String phase = label(line, "phase");
                if (phase != null) {
                    phases.computeIfAbsent(phase, ignored -> new Parts()).add(line.substring(PHASE.length()), value);
                }
            }
            else if (line.startsWith(VIEW_AGE + "_")) {
                viewAge.add(line.substring(VIEW_AGE.length()), value);
            }
            else if (line.startsWith(VIEW_READ + "_")) {
                viewRead.add(line.substring(VIEW_READ.length()), value);
            }
            else if (line.startsWith(QUEUE)) {
                queued += (long) value;
            }
            else if (series(line, CPU)) {
                cpuNanos = (long) value;
            }
            // labelled by compiler
            else if (series(line, JIT)) {
                jitMillis = Math.max(0, jitMillis) + (long) value;
            }
            // one series per collector and cause: summed
            else if (line.startsWith(GC_PAUSE + "_count")) {
                gcPauses += (long) value;
            }
            else if (line.startsWith(GC_PAUSE + "_sum")) {
                gcPauseSeconds += value;
            }
        }
        Map<String, Histogram> phaseHistograms = new LinkedHashMap<>();
        // in the order a cycle runs them
        for (String phase : new String[] {"queue", "decide", "store"}) {
            Parts parts = phases.remove(phase);
            if (parts != null) {
                phaseHistograms.put(phase, parts.histogram());
            }
        }
        phases.forEach((phase, parts) -> phaseHistograms.put(phase, parts.histogram()));
        return new Snapshot(cycle.histogram(), phaseHistograms, viewAge.histogram(), viewRead.histogram(), queued,
                new ProcessWork(at, cpuNanos, jitMillis, gcPauses, gcPauseSeconds));
    }

    /** The line is a sample of exactly that series, with or without labels. */
    private static boolean series(String line, String name)
    {
        return line.startsWith(name) && line.length() > name.length() && (line.charAt(name.length()) == ' ' || line.charAt(name.length()) == '{');
    }

    private static String label(String line, String name)
    {
        int start = line.indexOf(name + "=\"");
        if (start < 0) {
            return null;
        }
        start += name.length() + 2;
        return line.substring(start, line.indexOf('"', start));
    }

    /** The lines of one histogram as they are read: {@code _bucket{le=...}}, {@code _count}, {@code _sum}. */
    private static final class Parts
    {
        private final TreeMap<Double, Long> buckets = new TreeMap<>();
        private long count;
        private double sum;

        void add(String suffix, double value)
        {
            if (suffix.startsWith("_bucket")) {
                String bound = label(suffix, "le");
                if (bound != null) {
                    buckets.put(bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound), (long) value);
                }
            }
            else if (suffix.startsWith("_count")) {
                count = (long) value;
            }
            else if (suffix.startsWith("_sum")) {
                sum = value;
            }
        }

        Histogram histogram()
        {
            return new Histogram(buckets, count, sum);
        }
    }
}
