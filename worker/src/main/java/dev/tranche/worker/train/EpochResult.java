package dev.tranche.worker.train;

/**
 * One finished epoch (1-based), measured on the driver. The loss and accuracy are on the validation
 * images held out of the training set (NaN when none are held out); the test images are not looked at
 * until training is over.
 */
public record EpochResult(int epoch, int epochs, double trainLoss, double validationLoss, double validationAccuracy, double seconds, double imagesPerSecond)
{
    public EpochResult
    {
        if (epoch < 1 || epoch > epochs) {
            throw new IllegalArgumentException("epoch " + epoch + " of " + epochs);
        }
    }
}
