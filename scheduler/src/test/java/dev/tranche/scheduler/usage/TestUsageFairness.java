package dev.tranche.scheduler.usage;

import dev.tranche.scheduler.outcome.Outcomes;
import dev.tranche.scheduler.outcome.UsageTimeline;
import dev.tranche.scheduler.usage.UsageStore.ProjectSample;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestUsageFairness
{
    private static final Instant START = Instant.parse("2026-11-30T08:00:00Z");

    @Test
    void theLivePageAndAReplayScoreTheSameUsageTheSame()
    {
        // two projects deserving 4 GPUs each, both asking for 6: vision holds 4 (all it deserves),
        // speech 2 (half): Jain over (1, 0.5) = 2.25 / 2.5 = 0.9, every minute of two hours
        List<ProjectSample> samples = new ArrayList<>();
        for (int minute = 0; minute < 120; minute++) {
            Instant at = START.plus(Duration.ofMinutes(minute));
            samples.add(new ProjectSample(at, "vision", 4000, 4000, 1, 2000));
            samples.add(new ProjectSample(at, "speech", 2000, 4000, 2, 4000));
        }
        UsageFairness.Fairness live = UsageFairness.of(samples, Duration.ofMinutes(1));
        assertThat(live.hours()).extracting(UsageFairness.Hour::start).containsExactly(START, START.plus(Duration.ofHours(1)));
        assertThat(live.hours()).allSatisfy(hour -> assertThat(hour.jain()).isCloseTo(0.9, within(1e-9)));
        assertThat(live.mean()).isCloseTo(0.9, within(1e-9));

        // what simulate computes for the same usage, with fixed deserved shares
        UsageTimeline replay = new UsageTimeline(List.of("speech", "vision"), 0, 3600);
        replay.advance(7200, new double[] {2, 4}, new double[] {6, 6});
        assertThat(Outcomes.meanJain(replay, new double[] {4, 4})).isCloseTo(live.mean(), within(1e-9));
    }

    @Test
    void hoursWhenNobodyAskedAreLeftOutAndAQuotaChangeCountsFromWhenItWasMade()
    {
        List<ProjectSample> samples = new ArrayList<>();
        for (int minute = 0; minute < 60; minute++) {
            Instant at = START.plus(Duration.ofMinutes(minute));
            // first half hour: both deserve 4 and get it; then speech's quota is cut to 1 and it still holds 2
            long speechDeserved = minute < 30 ? 4000 : 1000;
            samples.add(new ProjectSample(at, "vision", 4000, 4000, 0, 0));
            samples.add(new ProjectSample(at, "speech", 2000, speechDeserved, 0, 0));
        }
        // the next hour: nothing held, nothing asked (a quiet hour); then an hour where only vision asks
        for (int minute = 120; minute < 180; minute++) {
            samples.add(new ProjectSample(START.plus(Duration.ofMinutes(minute)), "vision", 1000, 4000, 0, 0));
        }
        UsageFairness.Fairness fairness = UsageFairness.of(samples, Duration.ofMinutes(1));
        assertThat(fairness.hours()).extracting(UsageFairness.Hour::start).containsExactly(START, START.plus(Duration.ofHours(2)));
        // hour 1: entitled = min(deserved, demand) = vision 4x3600, speech min(2.5, 2) x 3600; shares 1 and 1
        assertThat(fairness.hours().get(0).jain()).isCloseTo(1.0, within(1e-9));
        // hour 3: vision alone
        assertThat(fairness.hours().get(1).jain()).isCloseTo(1.0, within(1e-9));
        assertThat(UsageFairness.of(List.of(), Duration.ofMinutes(1)).mean()).isEqualTo(1.0);
    }
}
