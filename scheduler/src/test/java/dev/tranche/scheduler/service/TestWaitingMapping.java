package dev.tranche.scheduler.service;

import dev.tranche.scheduler.experiment.FitCheck;
import dev.tranche.scheduler.experiment.Waiting;
import dev.tranche.scheduler.experiment.WaitingReason;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every waiting reason and fit check the domain has reaches the API under its own name. */
class TestWaitingMapping
{
    @Test
    void everyReasonAndCheckHasItsApiValue()
    {
        for (WaitingReason reason : WaitingReason.values()) {
            for (FitCheck check : FitCheck.values()) {
                dev.tranche.proto.v1.Waiting mapped = ProtoMapper.waiting(new Waiting(reason, "why", Map.of(check, 3), 1));
                assertThat(mapped.getReason().name()).isEqualTo(reason.name());
                assertThat(mapped.getNodesFailing(0).getCheck().name()).isEqualTo(check.name());
                assertThat(mapped.getNodesFailing(0).getNodes()).isEqualTo(3);
                assertThat(mapped.getFittingNodes()).isEqualTo(1);
            }
        }
        // and nothing the API names is missing from the domain (the unspecified value aside)
        assertThat(dev.tranche.proto.v1.WaitingReason.values()).hasSize(WaitingReason.values().length + 2);   // + UNSPECIFIED, UNRECOGNIZED
        assertThat(dev.tranche.proto.v1.FitCheck.values()).hasSize(FitCheck.values().length + 2);
    }
}
