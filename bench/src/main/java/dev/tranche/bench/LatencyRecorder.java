package dev.tranche.bench;

import java.util.Arrays;

/** Latencies of one thread, in nanoseconds; merged and sorted once at the end, so recording is cheap. */
final class LatencyRecorder
{
    private long[] samples = new long[1 << 14];
    private int size;

    void record(long nanos)
    {
        if (size == samples.length) {
            samples = Arrays.copyOf(samples, size * 2);
        }
        samples[size++] = nanos;
    }

    int size()
    {
        return size;
    }

    static long[] merge(Iterable<LatencyRecorder> recorders)
    {
        int total = 0;
        for (LatencyRecorder recorder : recorders) {
            total += recorder.size;
        }
        long[] all = new long[total];
        int at = 0;
        for (LatencyRecorder recorder : recorders) {
            System.arraycopy(recorder.samples, 0, all, at, recorder.size);
            at += recorder.size;
        }
        Arrays.sort(all);
        return all;
    }

    /** The q-quantile of sorted samples in milliseconds (nearest rank). */
    static double quantileMillis(long[] sorted, double q)
    {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank))] / 1e6;
    }
}
