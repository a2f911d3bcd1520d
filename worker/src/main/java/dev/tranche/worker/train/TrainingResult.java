package dev.tranche.worker.train;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * How a run ended. {@code imagesPerSecond} counts training images over the time spent training
 * (evaluation and checkpoints excluded) in this process; {@code stopped} is true when a stop signal
 * ended it early after a checkpoint (then nothing was tested: the test numbers are NaN).
 * {@code testAccuracy} and {@code testLoss} are of the final model, the one of epoch
 * {@code modelEpoch} (the best on validation), measured once on the test images at the end;
 * {@code averagingFrequency} is the number of steps between parameter averages used (0 where there
 * is no averaging).
 */
public record TrainingResult(
        String mode,
        int epochs,
        int resumedFromEpoch,
        long trainImages,
        long validationImages,
        long testImages,
        double testAccuracy,
        double testLoss,
        int modelEpoch,
        double validationAccuracy,
        boolean earlyStopped,
        int averagingFrequency,
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
