package dev.tranche.scheduler.core.model;

import static java.util.Objects.requireNonNull;

/**
 * An experiment waiting for a gang placement: all {@code replicas} at once, each needing {@code request}.
 * {@code age} is how long it has waited in whatever unit the caller counts (cycles, seconds): the core
 * has no clock, it only compares ages against {@code SchedulingOptions.starvationAge}.
 */
public record PendingExperiment(String id, String project, int priority, boolean preemptible, int replicas, ResourceRequest request, long arrivalSequence, long age)
{
    public PendingExperiment
    {
        requireNonNull(id, "id is null");
        requireNonNull(project, "project is null");
        requireNonNull(request, "request is null");
        if (id.isBlank()) {
            throw new IllegalArgumentException("experiment id is blank");
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("experiment " + id + " needs at least 1 replica, got " + replicas);
        }
        if (age < 0) {
            throw new IllegalArgumentException("experiment " + id + " has negative age " + age);
        }
    }
}
