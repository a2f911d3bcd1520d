package dev.tranche.worker.train;

import static dev.tranche.spec.ExperimentSpecValidator.CONSTANT;
import static dev.tranche.spec.ExperimentSpecValidator.COSINE;

/**
 * The learning rate at a step of a run: {@code cosine} (half a cosine from the spec's rate down to
 * nearly 0 over every epoch's steps; a constant rate overshoots late in a run, where validation falls
 * back) or {@code constant}. A function of the step alone, so a resumed run continues the same curve.
 * A spec stored before the schedule existed has none and trained at a constant rate: it keeps one.
 */
record LearningRateSchedule(String name, double base, long totalSteps)
{
    LearningRateSchedule
    {
        if (!name.isEmpty() && !name.equals(COSINE) && !name.equals(CONSTANT)) {
            throw new IllegalArgumentException("training.learning_rate_schedule must be cosine or constant: got '" + name + "'");
        }
        if (!(base > 0) || totalSteps < 1) {
            throw new IllegalArgumentException("a learning-rate schedule needs a rate > 0 and at least one step");
        }
    }

    double at(long step)
    {
        if (!name.equals(COSINE)) {
            return base;
        }
        double done = Math.min(1.0, Math.max(0.0, (double) step / totalSteps));
        return base * 0.5 * (1 + Math.cos(Math.PI * done));
    }
}
