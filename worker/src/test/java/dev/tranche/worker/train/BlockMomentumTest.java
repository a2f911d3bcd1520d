package dev.tranche.worker.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

class BlockMomentumTest
{
    @Test
    void twoWorkersCarryHalfOfTheLastBlocksUpdateIntoTheNext()
    {
        BlockMomentum momentum = new BlockMomentum(2);
        assertThat(momentum.momentum()).isEqualTo(0.5);

        // the first block: nothing to carry yet, the average is taken as it is
        INDArray averaged = vector(1.0, -2.0);
        INDArray first = momentum.next(vector(0.0, 0.0), averaged, RATE, 1);
        assertThat(first.toDoubleVector()).containsExactly(1.0, -2.0);
        assertThat(averaged.toDoubleVector()).as("the average is only read").containsExactly(1.0, -2.0);

        // the second: its own update (0.5, 0.5) plus half of the first block's (1, -2)
        INDArray second = momentum.next(vector(1.0, -2.0), vector(1.5, -1.5), RATE, 1);
        assertThat(second.toDoubleVector()).containsExactly(2.0, -2.5);
    }

    @Test
    void updatesThatAgreeGrowTowardsKTimesTheAveragedStep()
    {
        // every block's average moves the parameter by 0.1 from where the block started
        double[] steps = steps(new BlockMomentum(4), 60, block -> 0.1);
        assertThat(steps[steps.length - 1]).isCloseTo(0.4, offset(1e-6));
    }

    @Test
    void updatesThatAlternateAreDampedInsteadOfAmplified()
    {
        double[] steps = steps(new BlockMomentum(2), 40, block -> block % 2 == 0 ? 0.1 : -0.1);
        assertThat(java.util.Arrays.stream(steps).map(Math::abs).max().orElseThrow()).isLessThanOrEqualTo(0.1 + 1e-9);
    }

    /** The step each of {@code blocks} blocks takes when the workers' average moves by {@code update(block)}. */
    private static double[] steps(BlockMomentum momentum, int blocks, java.util.function.IntToDoubleFunction update)
    {
        INDArray at = vector(0.0);
        double[] steps = new double[blocks];
        for (int block = 0; block < blocks; block++) {
            double before = at.getDouble(0);
            at = momentum.next(at, vector(before + update.applyAsDouble(block)), RATE, 1);
            steps[block] = at.getDouble(0) - before;
        }
        return steps;
    }

    @Test
    void oneWorkerChangesNothing()
    {
        BlockMomentum momentum = new BlockMomentum(1);
        assertThat(momentum.momentum()).isZero();
        momentum.next(vector(0.0), vector(3.0), RATE, 1);
        assertThat(momentum.next(vector(3.0), vector(2.0), RATE, 1).toDoubleVector()).containsExactly(2.0);
    }

    @Test
    void refusesWhatItCannotCombine()
    {
        assertThatThrownBy(() -> new BlockMomentum(0)).hasMessage("workers must be at least 1: got 0");
        assertThatThrownBy(() -> new BlockMomentum(2).next(vector(0.0, 1.0), vector(0.0), RATE, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("parameter shapes differ");
    }

    @Test
    void aFallingLearningRateSlowsTheCarriedUpdateWithIt()
    {
        BlockMomentum momentum = new BlockMomentum(2);
        momentum.next(vector(0.0), vector(1.0), 0.002, 1);
        // the rate halved: half of the momentum 0.5 carries the first block's update of 1
        assertThat(momentum.next(vector(1.0), vector(1.1), 0.001, 1).toDoubleVector()[0]).isCloseTo(1.35, offset(1e-9));
        // at the end of a cosine schedule (rate 0) nothing is carried
        assertThat(momentum.next(vector(2.0), vector(2.0), 0.0, 1).toDoubleVector()).containsExactly(2.0);
        // a rising rate carries no more than the momentum itself
        momentum.next(vector(0.0), vector(1.0), 0.001, 1);
        assertThat(momentum.next(vector(1.0), vector(1.0), 0.004, 1).toDoubleVector()[0]).isCloseTo(1.5, offset(1e-9));
        assertThatThrownBy(() -> momentum.next(vector(0.0), vector(0.0), Double.NaN, 1)).hasMessage("learning rate must be finite and >= 0: got NaN");
    }

    @Test
    void theFirstEpochTakesTheAverageAsItIs()
    {
        BlockMomentum momentum = new BlockMomentum(2);
        assertThat(momentum.carries(0)).isFalse();
        assertThat(momentum.carries(1)).isTrue();
        assertThat(new BlockMomentum(1).carries(1)).as("one worker carries nothing").isFalse();
        assertThat(momentum.next(vector(0.0), vector(1.0), RATE, 0).toDoubleVector()).containsExactly(1.0);
        assertThat(momentum.next(vector(1.0), vector(2.0), RATE, 0).toDoubleVector()).containsExactly(2.0);
        // the second epoch starts carrying, from its own first block on
        assertThat(momentum.next(vector(2.0), vector(3.0), RATE, 1).toDoubleVector()).containsExactly(3.0);
        assertThat(momentum.next(vector(3.0), vector(4.0), RATE, 1).toDoubleVector()).containsExactly(4.5);
    }

    private static final double RATE = 0.001;

    private static INDArray vector(double... values)
    {
        return Nd4j.create(values);
    }
}
