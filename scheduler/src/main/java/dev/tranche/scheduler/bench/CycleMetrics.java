package dev.tranche.scheduler.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/**
 * Reads a running scheduler's scheduling-cycle histogram ({@code tranche_scheduling_cycle_seconds}) and
 * queue lengths from its Prometheus endpoint, so that a benchmark can say how long the real server's
 * cycles took while it drove load. Quantiles are bucket bounds: "p99 <= 0.105 s" means the 99th
 * percentile cycle fell in the bucket ending there.
 */
final class CycleMetrics
{
    private static final String BUCKET = "tranche_scheduling_cycle_seconds_bucket{le=\"";
    private static final String COUNT = "tranche_scheduling_cycle_seconds_count";
    private static final String SUM = "tranche_scheduling_cycle_seconds_sum";
    private static final String QUEUE = "tranche_queue_length{";

    private final URI uri;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    CycleMetrics(URI uri, String token)
    {
        this.uri = requireNonNull(uri, "uri is null");
        this.token = requireNonNull(token, "token is null");
    }

    /** Cumulative counts by bucket upper bound (seconds), total cycles, total seconds, experiments queued. */
    record Snapshot(TreeMap<Double, Long> buckets, long count, double sumSeconds, long queued)
    {
        Window since(Snapshot before)
        {
            TreeMap<Double, Long> delta = new TreeMap<>();
            for (Map.Entry<Double, Long> bucket : buckets.entrySet()) {
                delta.put(bucket.getKey(), bucket.getValue() - (before == null ? 0 : before.buckets().getOrDefault(bucket.getKey(), 0L)));
            }
            return new Window(delta, count - (before == null ? 0 : before.count()), sumSeconds - (before == null ? 0 : before.sumSeconds()), queued);
        }
    }

    /** The cycles between two snapshots. */
    record Window(TreeMap<Double, Long> buckets, long cycles, double seconds, long queued)
    {
        double meanMillis()
        {
            return cycles == 0 ? Double.NaN : seconds * 1000 / cycles;
        }

        /** Upper bound (ms) of the bucket holding the quantile, "-" without cycles, "> last" past the last bound. */
        String quantileBound(double quantile)
        {
            if (cycles == 0) {
                return "-";
            }
            long rank = (long) Math.ceil(quantile * cycles);
            for (Map.Entry<Double, Long> bucket : buckets.entrySet()) {
                if (bucket.getValue() >= rank) {
                    return Double.isInfinite(bucket.getKey()) ? "> " + String.format(Locale.ROOT, "%.0f", buckets.lowerKey(bucket.getKey()) * 1000)
                            : String.format(Locale.ROOT, "%.1f", bucket.getKey() * 1000);
                }
            }
            return "?";
        }
    }

    Snapshot read()
    {
        String body;
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("the scheduler's /metrics answered " + response.statusCode());
            }
            body = response.body();
        }
        catch (IOException e) {
            throw new IllegalStateException("cannot read the scheduler's /metrics: " + e.getMessage(), e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        TreeMap<Double, Long> buckets = new TreeMap<>();
        long count = 0;
        double sum = 0;
        long queued = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith(BUCKET)) {
                int end = line.indexOf('"', BUCKET.length());
                String bound = line.substring(BUCKET.length(), end);
                double le = bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound);
                buckets.put(le, (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
            else if (line.startsWith(COUNT)) {
                count = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
            else if (line.startsWith(SUM)) {
                sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
            else if (line.startsWith(QUEUE)) {
                queued += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return new Snapshot(buckets, count, sum, queued);
    }
}
