package dev.tranche.worker.train;

/**
 * How {@code training.averaging_frequency: auto} picks the steps between parameter averages. An
 * averaging round has a fixed cost (Spark's stages, the broadcast of parameters and updater state, a
 * network rebuilt on each worker) that a round of few, quick steps cannot hide, while averaging
 * rarely lets the workers drift apart. So: the fewest steps for which that fixed cost is at most
 * {@link #OVERHEAD} of the compute between averages, but never more than {@link #MAX_STEPS}.
 * The two constants were chosen on validation accuracy and throughput, never on the test images
 * (docs/benchmarks-worker.md, "Validation split, averaging auto, seeds").
 */
public final class AveragingCalibration
{
    /** Fixed round cost allowed, as a share of the compute between two averages. */
    static final double OVERHEAD = 0.10;
    /** Never fewer averages than one every this many steps: the accuracy side of the trade. */
    static final int MAX_STEPS = 32;
    /** Steps per worker in the long calibration round (the short one has 1). */
    static final int LONG_ROUND = 4;
    /**
     * Pairs of rounds (one short, one long) run before any is timed: the first rounds also pay for
     * compiling and allocating, which showed as a step of 153-273 ms and a round of 331-669 ms on
     * three runs of one idle machine when only one round warmed up (docs/benchmarks-worker.md).
     */
    static final int WARM_UP_PAIRS = 2;
    /** Pairs timed, in turn; the quickest of each kind counts. */
    static final int TIMED_PAIRS = 5;
    /** Used when the data set is too small to time rounds on (a quick experiment; nothing to hide). */
    static final int FALLBACK_STEPS = 5;
    static final String RULE = "averaging cost at most " + Math.round(OVERHEAD * 100) + "% of the compute, at most every " + MAX_STEPS + " steps";

    private AveragingCalibration() {}

    /** A step's and a round's fixed cost in seconds, and the frequency they give. */
    public record Measurement(double stepSeconds, double roundSeconds, int frequency)
    {
        public Measurement
        {
            if (frequency < 1) {
                throw new IllegalArgumentException("frequency must be at least 1: got " + frequency);
            }
        }
    }

    /**
     * From the time of an averaging round of 1 step per worker and one of {@link #LONG_ROUND} steps:
     * round(f) = fixed + f x step.
     */
    public static Measurement choose(double oneStepRoundSeconds, double longRoundSeconds)
    {
        double step = Math.max(1e-4, (longRoundSeconds - oneStepRoundSeconds) / (LONG_ROUND - 1));
        double fixed = Math.max(0, oneStepRoundSeconds - step);
        return new Measurement(step, fixed, frequency(step, fixed));
    }

    static int frequency(double stepSeconds, double roundSeconds)
    {
        double steps = Math.ceil(roundSeconds / (OVERHEAD * stepSeconds));
        return (int) Math.max(1, Math.min(MAX_STEPS, steps));
    }

    static Measurement tooLittleData()
    {
        return new Measurement(Double.NaN, Double.NaN, FALLBACK_STEPS);
    }
}
