package dev.tranche.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class DurationsTest
{
    @Test
    void readsEveryUnitAndSums()
    {
        assertThat(Durations.parse("--cycle-interval", "200ms")).isEqualTo(Duration.ofMillis(200));
        assertThat(Durations.parse("--cycle-interval", "1s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(Durations.parse("--starvation-age", "5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("--usage-retention", "90d")).isEqualTo(Duration.ofDays(90));
        assertThat(Durations.parse("--usage-retention", "2w")).isEqualTo(Duration.ofDays(14));
        assertThat(Durations.parse("--starvation-age", " 1H30m ")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("--cycle-gap", "1s500ms")).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void formatsAsTheFlagsReadIt()
    {
        assertThat(Durations.format(Duration.ofMinutes(10))).isEqualTo("10m");
        assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1s500ms");
        assertThat(Durations.format(Duration.ofDays(30))).isEqualTo("30d");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
        for (String text : new String[] {"200ms", "45s", "1d12h", "2h5m7s"}) {
            assertThat(Durations.format(Durations.parse("--x", text))).isEqualTo(text);
        }
    }

    @Test
    void namesTheFlagAndShowsExamplesWhenItIsNotADuration()
    {
        for (String bad : new String[] {"fast", "", "12", "ms", "1.5h", "-1s", "1y", "1h 30m", "1234567890s"}) {
            assertThatThrownBy(() -> Durations.parse("--cycle-interval", bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--cycle-interval must be a duration such as 200ms, 45s, 5m, 12h, 30d or 1d12h (units ms, s, m, h, d, w): got '" + bad + "'");
        }
    }

    @Test
    void aHugeValueIsRefusedBeforeAnyMatching()
    {
        // 20,000 parts once overflowed the regular expression's stack (StackOverflowError, not a message)
        assertThatThrownBy(() -> Durations.parse("--usage-retention", "999999999w".repeat(20_000)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--usage-retention must be a duration of at most 64 characters, such as 12h or 1d12h: got 200000 characters");
        assertThat(Durations.parse("--usage-retention", "999999999w999999999d")).isEqualTo(Duration.ofDays(7 * 999_999_999L + 999_999_999L));
    }
}
