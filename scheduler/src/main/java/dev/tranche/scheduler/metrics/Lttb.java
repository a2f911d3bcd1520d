package dev.tranche.scheduler.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Largest-triangle-three-buckets (Steinarsson, 2013): picks {@code threshold} points of a series so
 * that its chart keeps peaks and troughs, in one pass. The first and last points always stay.
 */
public final class Lttb
{
    private Lttb() {}

    /** {@code series} in step order; returns it unchanged when it is short enough. */
    public static List<MetricSample> downsample(List<MetricSample> series, int threshold)
    {
        if (threshold < 3) {
            throw new IllegalArgumentException("downsample_to must be at least 3: got " + threshold);
        }
        int n = series.size();
        if (n <= threshold) {
            return series;
        }
        List<MetricSample> sampled = new ArrayList<>(threshold);
        double bucketSize = (double) (n - 2) / (threshold - 2);
        int chosen = 0;
        sampled.add(series.get(0));
        for (int bucket = 0; bucket < threshold - 2; bucket++) {
            // the average of the next bucket is the third corner of the triangle
            int nextStart = (int) Math.floor((bucket + 1) * bucketSize) + 1;
            int nextEnd = Math.min((int) Math.floor((bucket + 2) * bucketSize) + 1, n);
            double averageX = 0;
            double averageY = 0;
            for (int i = nextStart; i < nextEnd; i++) {
                averageX += series.get(i).step();
                averageY += series.get(i).value();
            }
            int count = Math.max(1, nextEnd - nextStart);
            averageX /= count;
            averageY /= count;

            int start = (int) Math.floor(bucket * bucketSize) + 1;
            int end = (int) Math.floor((bucket + 1) * bucketSize) + 1;
            double ax = series.get(chosen).step();
            double ay = series.get(chosen).value();
            double largest = -1;
            int pick = start;
            for (int i = start; i < end; i++) {
                double area = Math.abs((ax - averageX) * (series.get(i).value() - ay) - (ax - series.get(i).step()) * (averageY - ay));
                if (area > largest) {
                    largest = area;
                    pick = i;
                }
            }
            sampled.add(series.get(pick));
            chosen = pick;
        }
        sampled.add(series.get(n - 1));
        return sampled;
    }
}
