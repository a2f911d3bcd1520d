package dev.tranche.scheduler.backend;

import static java.util.Objects.requireNonNull;

/**
 * One run attempt of an experiment: the workers of one placement of it. Every placement is a new
 * attempt (numbered from 1; 0 is a placement made before attempts were counted), and a backend names
 * and labels each attempt's workers with it, so that workers of an earlier placement are never taken
 * for a later one's, and stopping them never touches the later one's.
 */
public record RunAttempt(String experimentId, int attempt)
        implements Comparable<RunAttempt>
{
    public RunAttempt
    {
        requireNonNull(experimentId, "experimentId is null");
        if (attempt < 0) {
            throw new IllegalArgumentException("an attempt is numbered from 0: got " + attempt);
        }
    }

    /** By experiment, then attempt: the order backends list their workers in. */
    @Override
    public int compareTo(RunAttempt other)
    {
        int byExperiment = experimentId.compareTo(other.experimentId);
        return byExperiment != 0 ? byExperiment : Integer.compare(attempt, other.attempt);
    }

    @Override
    public String toString()
    {
        return experimentId + " (attempt " + attempt + ")";
    }
}
