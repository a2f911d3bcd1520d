package dev.tranche.worker.train;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

class LearningRateScheduleTest
{
    @Test
    void cosineFallsFromTheSpecsRateToNearlyZeroOverTheRun()
    {
        LearningRateSchedule cosine = new LearningRateSchedule("cosine", 0.002, 1000);
        assertThat(cosine.at(0)).isEqualTo(0.002);
        assertThat(cosine.at(500)).isCloseTo(0.001, offset(1e-12));
        assertThat(cosine.at(250)).isCloseTo(0.002 * (1 + Math.sqrt(0.5)) / 2, offset(1e-12));
        assertThat(cosine.at(999)).isPositive().isLessThan(1e-7);
        // never rising, and past the end (a resumed run with fewer epochs left) it stays at the end
        for (long step = 1; step <= 1000; step++) {
            assertThat(cosine.at(step)).isLessThanOrEqualTo(cosine.at(step - 1));
        }
        assertThat(cosine.at(5000)).isZero();
    }

    @Test
    void constantAndTheUnsetScheduleOfSpecsStoredBeforeItKeepTheRate()
    {
        assertThat(new LearningRateSchedule("constant", 0.01, 10).at(7)).isEqualTo(0.01);
        assertThat(new LearningRateSchedule("", 0.01, 10).at(9)).isEqualTo(0.01);
    }

    @Test
    void refusesWhatItCannotFollow()
    {
        assertThatThrownBy(() -> new LearningRateSchedule("step", 0.01, 10)).hasMessageContaining("training.learning_rate_schedule must be cosine or constant: got 'step'");
        assertThatThrownBy(() -> new LearningRateSchedule("cosine", 0, 10)).hasMessageContaining("rate > 0");
        assertThatThrownBy(() -> new LearningRateSchedule("cosine", 0.01, 0)).hasMessageContaining("at least one step");
    }
}
