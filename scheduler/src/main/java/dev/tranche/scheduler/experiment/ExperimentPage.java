package dev.tranche.scheduler.experiment;

import java.util.List;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/** One page of experiments, and the cursor of the next page if there is one. */
public record ExperimentPage(List<ExperimentRecord> experiments, OptionalLong nextBeforeSequence)
{
    public ExperimentPage
    {
        experiments = List.copyOf(requireNonNull(experiments, "experiments is null"));
        requireNonNull(nextBeforeSequence, "nextBeforeSequence is null");
    }
}
