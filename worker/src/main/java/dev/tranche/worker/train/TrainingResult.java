package dev.tranche.worker.train;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * How a run ended. {@code imagesPerSecond} counts training images over the time spent training
 * (evaluation and checkpoints excluded) in this process; {@code stopped} is true when a stop signal
 * ended it early after a checkpoint.
 */
public record TrainingResult(
        String mode,
        int epochs,
        int resumedFromEpoch,
        long trainImages,
        long testImages,
        double testAccuracy,
        double testLoss,
        double imagesPerSecond,
        double trainingSeconds,
        boolean stopped,
        List<EpochResult> epochResults)
{
    public TrainingResult
    {
        requireNonNull(mode, "mode is null");
        epochResults = List.copyOf(epochResults);
    }
}
