package dev.tranche.scheduler.metrics;

import java.time.Instant;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/** One stored metric point, checked before it goes near the database. */
public record MetricSample(String experimentId, String name, long step, int epoch, double value, Instant at)
{
    private static final Pattern NAME = Pattern.compile("[a-z0-9_]{1,64}");

    public MetricSample
    {
        requireNonNull(experimentId, "experimentId is null");
        requireNonNull(name, "name is null");
        requireNonNull(at, "at is null");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("points.name must be 1 to 64 lower-case letters, digits or '_': got \""
                    + (name.length() > 80 ? name.substring(0, 80) + "..." : name) + "\"");
        }
        if (step < 0) {
            throw new IllegalArgumentException("points.step must not be negative: got " + step + " (" + name + ")");
        }
        if (epoch < 0) {
            throw new IllegalArgumentException("points.epoch must not be negative: got " + epoch + " (" + name + ")");
        }
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("points.value must be a finite number: got " + value + " (" + name + " at step " + step + ")");
        }
    }
}
