package dev.tranche.scheduler.metrics;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Where the metrics workers report are kept; the store package implements it. */
public interface MetricsStore
{
    /** Stores the points of one experiment; the same (name, step) twice in one batch keeps the last. Returns how many were stored. */
    int store(String experimentId, List<MetricSample> points);

    /** Points after {@code afterStep}, by name then step, at most {@code limit}. */
    List<MetricSample> read(String experimentId, List<String> names, long afterStep, int limit);

    /**
     * Points for a chart of at most about {@code threshold} points per series, reduced where the data
     * are (the caller picks the final points with LTTB).
     */
    List<MetricSample> forChart(String experimentId, List<String> names, long afterStep, int threshold);

    /** The newest point of each series. */
    List<MetricSample> latest(String experimentId, List<String> names);

    /** The newest epoch each experiment has reported anything for; experiments without metrics are left out. */
    Map<String, Integer> latestEpochs(Collection<String> experimentIds);
}
