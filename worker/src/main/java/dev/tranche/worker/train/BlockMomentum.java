package dev.tranche.worker.train;

import org.nd4j.linalg.api.ndarray.INDArray;

import static java.util.Objects.requireNonNull;

/**
 * Momentum across blocks of parameter averaging (block-wise model-update filtering: K. Chen and
 * Q. Huo, ICASSP 2016). K workers that each take f steps from the same parameters and are then
 * averaged move the model about as far as one worker's f steps, not K x f: on the same data, the
 * averaged model makes about 1/K of the progress that one process would. Carrying the block's
 * update with momentum {@code 1 - 1/K} into the next block restores a step of about K times the
 * averaged one once the updates agree, and damps them where they do not. One worker: momentum 0,
 * nothing changes. The constant is the method's own rule, not tuned on any data set.
 */
final class BlockMomentum
{
    /**
     * Epochs (from 0) that train without it: the first blocks' updates are the large move away from
     * the random initialisation, and carrying them on overshoots (one-epoch runs on 2,700 images
     * lost 9-25 points of test accuracy with it from the start, 1-5 with the rate scaling below).
     */
    static final int WARM_UP_EPOCHS = 1;

    private final double momentum;
    private INDArray velocity;
    private double lastRate;

    BlockMomentum(int workers)
    {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be at least 1: got " + workers);
        }
        // the method's rule: 1 - 1/K for K workers
        this.momentum = 1.0 - 1.0 / workers;
    }

    double momentum()
    {
        return momentum;
    }

    /** Whether blocks of this epoch (from 0) carry anything: before it, {@link #next} takes the average as it is. */
    boolean carries(int epoch)
    {
        return momentum > 0 && epoch >= WARM_UP_EPOCHS;
    }

    /**
     * The parameters to continue from, given those the block started from, the workers' average
     * after it and the learning rate the block trained at. The carried update is scaled by this
     * block's rate over the last one's, as an optimizer's momentum is kept in gradient units: a
     * falling schedule (cosine) then slows the carried steps with it instead of extrapolating the
     * early, large ones into its last blocks (a rising rate carries no more than the momentum).
     * Within the first {@link #WARM_UP_EPOCHS} (counted from 0) the average is taken as it is.
     * {@code before} is overwritten with the result and returned; {@code averaged} is read only.
     */
    INDArray next(INDArray before, INDArray averaged, double learningRate, int epoch)
    {
        requireNonNull(before, "before is null");
        requireNonNull(averaged, "averaged is null");
        if (!before.equalShapes(averaged)) {
            throw new IllegalArgumentException("parameter shapes differ: " + before.shapeInfoToString() + " and " + averaged.shapeInfoToString());
        }
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0: got " + learningRate);
        }
        if (epoch < WARM_UP_EPOCHS) {
            velocity = null;
            return before.assign(averaged);
        }
        INDArray update = averaged.sub(before);
        if (velocity == null || !(lastRate > 0)) {
            velocity = update;
        }
        else {
            velocity.muli(momentum * Math.min(1.0, learningRate / lastRate)).addi(update);
        }
        lastRate = learningRate;
        return before.addi(velocity);
    }
}
