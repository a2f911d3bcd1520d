package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.placement.PlacementPolicies;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestSchedulingOptions
{
    @Test
    void defaults()
    {
        assertThat(SchedulingOptions.defaults()).isEqualTo(new SchedulingOptions(42, 100, true, true));
        assertThat(PlacementPolicies.byName(PlacementPolicies.DEFAULT).name()).isEqualTo("fgd");
    }

    @Test
    void explicitMapping()
    {
        SchedulingOptions options = SchedulingOptions.defaults().withSeed(7).withStarvationAge(30);

        assertThat(options.seed()).isEqualTo(7);
        assertThat(options.starvationAge()).isEqualTo(30);
        assertThat(options.reclaim()).isTrue();
        assertThat(options.preempt()).isTrue();
    }

    @Test
    void validates()
    {
        assertThatThrownBy(() -> SchedulingOptions.defaults().withStarvationAge(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("starvationAge must be >= 1, got 0");
        assertThatThrownBy(() -> PlacementPolicies.byName("worst-fit"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown placement policy 'worst-fit'; known: fgd, fgd-classic, best-fit, spread, random, dot-product, gpu-clustering, gpu-packing");
    }
}
