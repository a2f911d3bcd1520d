package dev.tranche.client;

import dev.tranche.proto.v1.HistoryJob;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * The Tranche trace format that {@code tranche simulate --format tranche} reads, written from the
 * scheduler's history: the one place that says what a row holds, for {@code tranche history export}
 * and the HTTP API's {@code GET /api/v1/history} alike.
 */
public final class HistoryTrace
{
    /** The first line of a trace. */
    public static final String HEADER = "arrival,project,replicas,gpus,duration,priority";

    private HistoryTrace() {}

    /**
     * The job as a trace row: submitted at, project, replicas, GPUs per replica, seconds it ran (every
     * attempt), priority. Empty for a job that asked for GPU memory or no GPU: the trace counts GPUs.
     */
    public static Optional<String> row(HistoryJob job)
    {
        if (job.getGpus() <= 0) {
            return Optional.empty();
        }
        return Optional.of(String.join(",", Instant.ofEpochSecond(job.getSubmittedAt().getSeconds(), job.getSubmittedAt().getNanos()).toString(),
                job.getProject(), Integer.toString(job.getReplicas()), gpus(job.getGpus()),
                String.format(Locale.ROOT, "%.3f", job.getRunSeconds()), Integer.toString(job.getPriority())));
    }

    private static String gpus(double gpus)
    {
        return gpus == Math.rint(gpus) ? Long.toString((long) gpus) : String.format(Locale.ROOT, "%.3f", gpus).replaceAll("0+$", "");
    }
}
