package dev.tranche.cli;

import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

final class DescribeCommandTest
{
    @Test
    void attemptsSayWhichRunThisIsAndHowManyRetriesAreLeft()
    {
        ExperimentSpec twoRetries = ExperimentSpec.newBuilder().setMaxRetries(2).build();
        assertThat(DescribeCommand.attempts(Experiment.getDefaultInstance(), twoRetries)).isEqualTo("none yet");
        assertThat(DescribeCommand.attempts(attempts(1, 0), twoRetries)).isEqualTo("1 (0 failed; 2 retries left)");
        // preempted twice, failed once
        assertThat(DescribeCommand.attempts(attempts(4, 1), twoRetries)).isEqualTo("4 (1 failed; 1 retry left)");
        // the last retry failed too: the experiment is FAILED, nothing left (never a negative count)
        assertThat(DescribeCommand.attempts(attempts(3, 3), twoRetries)).isEqualTo("3 (3 failed; 0 retries left)");
        assertThat(DescribeCommand.attempts(attempts(1, 1), ExperimentSpec.newBuilder().setMaxRetries(0).build())).isEqualTo("1 (1 failed; 0 retries left)");
    }

    private static Experiment attempts(int attempts, int failed)
    {
        return Experiment.newBuilder().setAttempts(attempts).setFailedAttempts(failed).build();
    }
}
