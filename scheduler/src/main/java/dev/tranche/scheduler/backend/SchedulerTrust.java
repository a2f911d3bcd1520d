package dev.tranche.scheduler.backend;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How workers reach the scheduler: plaintext, TLS trusting the system's CAs, or TLS trusting the
 * certificates in a PEM file (its path as the worker sees it). Handed to workers as
 * {@code TRANCHE_SCHEDULER_TLS} and {@code TRANCHE_SCHEDULER_CA} (docs/worker.md).
 */
public record SchedulerTrust(boolean tls, Optional<String> caFile)
{
    public static final String TLS_VARIABLE = "TRANCHE_SCHEDULER_TLS";
    public static final String CA_VARIABLE = "TRANCHE_SCHEDULER_CA";
    public static final SchedulerTrust PLAINTEXT = new SchedulerTrust(false, Optional.empty());

    public SchedulerTrust
    {
        requireNonNull(caFile, "caFile is null");
        if (caFile.isPresent() && (caFile.get().isBlank() || !tls)) {
            throw new IllegalArgumentException("a CA file for workers means TLS, and needs a path: got " + caFile.get() + ", tls " + tls);
        }
    }

    public static SchedulerTrust systemCas()
    {
        return new SchedulerTrust(true, Optional.empty());
    }

    public static SchedulerTrust caFile(String path)
    {
        return new SchedulerTrust(true, Optional.of(path));
    }

    /** The variables a worker reads; none for plaintext. */
    public Map<String, String> environment()
    {
        Map<String, String> environment = new LinkedHashMap<>();
        if (tls) {
            environment.put(TLS_VARIABLE, "1");
        }
        caFile.ifPresent(path -> environment.put(CA_VARIABLE, path));
        return environment;
    }
}
