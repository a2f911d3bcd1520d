package dev.tranche.client;

import dev.tranche.proto.v1.HistoryJob;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
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

    /**
     * A bound of the history's window as an instant (2026-11-01T08:00:00Z) or a day (2026-11-01, from
     * its start in UTC); empty when the text is neither.
     */
    public static Optional<Instant> instantOrDay(String text)
    {
        String value = text.strip();
        try {
            return Optional.of(Instant.parse(value));
        }
        catch (DateTimeParseException notInstant) {
            try {
                return Optional.of(LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant());
            }
            catch (DateTimeParseException notDay) {
                return Optional.empty();
            }
        }
    }

    private static String gpus(double gpus)
    {
        return gpus == Math.rint(gpus) ? Long.toString((long) gpus) : String.format(Locale.ROOT, "%.3f", gpus).replaceAll("0+$", "");
    }
}
