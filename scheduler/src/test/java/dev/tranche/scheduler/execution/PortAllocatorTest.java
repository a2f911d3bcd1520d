package dev.tranche.scheduler.execution;

import dev.tranche.scheduler.backend.GangPorts;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PortAllocatorTest
{
    private final PortAllocator allocator = new PortAllocator(17000, 17009);

    @Test
    void takesTheLowestPortsFreeOnEveryHostOfTheGang()
    {
        GangPorts ports = allocator.allocate(Set.of("a", "b"), Map.of("a", Set.of(17000, 17002), "b", Set.of(17003)), (host, port) -> true);
        assertThat(ports).isEqualTo(new GangPorts(17001, 17004, 17005, 17006));
    }

    @Test
    void skipsPortsSomethingElseHoldsOnTheHost()
    {
        GangPorts ports = allocator.allocate(Set.of("a"), Map.of(), (host, port) -> port != 17001);
        assertThat(ports).isEqualTo(new GangPorts(17000, 17002, 17003, 17004));
    }

    @Test
    void aFullRangeSaysSoAndTheGangWaits()
    {
        assertThatThrownBy(() -> allocator.allocate(Set.of("a"), Map.of("a", Set.of(17000, 17001, 17002, 17003, 17004, 17005, 17006)), (host, port) -> true))
                .hasMessageContaining("no 4 free ports left in 17000-17009 on a");
    }
}
