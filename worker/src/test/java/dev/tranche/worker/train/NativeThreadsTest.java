package dev.tranche.worker.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The OpenMP team bound is a setting of each thread: the hook sets it in the thread that trains. */
class NativeThreadsTest
{
    private static int teamOfThisThread()
    {
        return NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
    }

    @Test
    void theHookBoundsTheTeamOfTheThreadThatTrainsAndNoOther()
            throws Exception
    {
        Nd4j.create(1); // loads the native backend
        NativeThreads.confine(2);
        int mine = teamOfThisThread();
        // the surefire environment (as ./tranche's) starts every thread at one OpenMP thread
        int before = CompletableFuture.supplyAsync(NativeThreadsTest::teamOfThisThread).get();
        assertThat(before).isEqualTo(1);

        NativeThreads hook = new NativeThreads(1);
        int during = CompletableFuture.supplyAsync(() -> {
            NativeThreads.confine(2);
            int raised = teamOfThisThread();
            hook.preUpdate((org.nd4j.linalg.dataset.api.DataSet) null, null);
            return raised * 10 + teamOfThisThread();
        }).get();
        assertThat(during % 10).as("bounded by the hook before a step").isEqualTo(1);
        assertThat(teamOfThisThread()).as("another thread's setting leaves this one's alone").isEqualTo(mine);
        assertThat(mine).isBetween(1, 2);
    }

    @Test
    void aTeamOfNoThreadIsRefused()
    {
        assertThatThrownBy(() -> new NativeThreads(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
    }
}
