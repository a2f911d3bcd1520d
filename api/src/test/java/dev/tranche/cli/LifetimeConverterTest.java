package dev.tranche.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class LifetimeConverterTest
{
    @Test
    void parsesUnitsAndSums()
    {
        assertThat(LifetimeConverter.parse("30d")).isEqualTo(Duration.ofDays(30));
        assertThat(LifetimeConverter.parse("12h")).isEqualTo(Duration.ofHours(12));
        assertThat(LifetimeConverter.parse("90m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(LifetimeConverter.parse("45s")).isEqualTo(Duration.ofSeconds(45));
        assertThat(LifetimeConverter.parse("2w")).isEqualTo(Duration.ofDays(14));
        assertThat(LifetimeConverter.parse(" 1D12h ")).isEqualTo(Duration.ofHours(36));
        assertThat(LifetimeConverter.parse("3650d")).isEqualTo(Duration.ofDays(3650));
        assertThat(LifetimeConverter.parse("never")).isZero();
    }

    @Test
    void refusesZeroTooLongAndNonsense()
    {
        assertThatThrownBy(() -> LifetimeConverter.parse("0s")).isInstanceOf(TypeConversionException.class).hasMessageContaining("must be more than 0");
        assertThatThrownBy(() -> LifetimeConverter.parse("3651d")).hasMessageContaining("at most 3650 days");
        assertThatThrownBy(() -> LifetimeConverter.parse("999999999w")).hasMessageContaining("at most 3650 days");
        // a StackOverflowError in the old parser's regular expression: now a message
        assertThatThrownBy(() -> LifetimeConverter.parse("1d".repeat(50_000))).isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("at most 64 characters");
        for (String bad : new String[] {"banana", "", "12", "d", "1.5h", "-1d", "1y", "1d 2h", "1234567890s"}) {
            assertThatThrownBy(() -> LifetimeConverter.parse(bad)).as(bad).isInstanceOf(TypeConversionException.class)
                    .hasMessage("a token's lifetime must be a duration such as 30d, 12h, 90m or 1d12h (units ms, s, m, h, d, w), or never: got '" + bad + "'");
        }
    }
}
