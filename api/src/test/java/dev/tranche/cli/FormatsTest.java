package dev.tranche.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

final class FormatsTest
{
    @Test
    void gpuHoursRoundToTheNearestHundredth()
    {
        assertThat(Formats.gpuHours(0)).isEqualTo("0.00");
        assertThat(Formats.gpuHours(17)).isEqualTo("0.00");
        assertThat(Formats.gpuHours(18)).isEqualTo("0.01");
        assertThat(Formats.gpuHours(5_400)).isEqualTo("1.50");
        assertThat(Formats.gpuHours(3_599)).isEqualTo("1.00");
        assertThat(Formats.gpuHours(7_200)).isEqualTo("2.00");
        assertThat(Formats.gpuHours(360_000_000)).isEqualTo("100000.00");
    }
}
