package dev.tranche.worker.train;

/** One finished epoch (1-based), measured on the driver. */
public record EpochResult(int epoch, int epochs, double trainLoss, double testLoss, double testAccuracy, double seconds, double imagesPerSecond)
{
    public EpochResult
    {
        if (epoch < 1 || epoch > epochs) {
            throw new IllegalArgumentException("epoch " + epoch + " of " + epochs);
        }
    }
}
