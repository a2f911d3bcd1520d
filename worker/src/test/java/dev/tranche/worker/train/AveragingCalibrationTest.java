package dev.tranche.worker.train;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

class AveragingCalibrationTest
{
    @Test
    void separatesTheFixedRoundCostFromTheStepsAndHidesIt()
    {
        // round(1) = 0.2 + 0.05, round(4) = 0.2 + 4 x 0.05
        AveragingCalibration.Measurement m = AveragingCalibration.choose(0.25, 0.40);
        assertThat(m.stepSeconds()).isCloseTo(0.05, offset(1e-9));
        assertThat(m.roundSeconds()).isCloseTo(0.20, offset(1e-9));
        // 0.2 s is at most 10% of 40 x 0.05 s
        assertThat(m.frequency()).isEqualTo(32);
        assertThat(AveragingCalibration.frequency(0.5, 0.2)).isEqualTo(4);
    }

    @Test
    void staysWithinBounds()
    {
        // a free round: average every step
        assertThat(AveragingCalibration.choose(0.1, 0.4).frequency()).isEqualTo(1);
        // a round far dearer than a step: no more than the cap
        assertThat(AveragingCalibration.choose(5.0, 5.03).frequency()).isEqualTo(AveragingCalibration.MAX_STEPS);
        // timing noise that makes the long round quicker than the short one
        assertThat(AveragingCalibration.choose(0.4, 0.3).frequency()).isEqualTo(AveragingCalibration.MAX_STEPS);
    }
}
