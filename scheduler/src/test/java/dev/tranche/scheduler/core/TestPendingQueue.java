package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.ServiceHistory;
import dev.tranche.scheduler.core.model.WorkloadShape;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class TestPendingQueue
{
    private static final ResourceRequest ONE_GPU = new ResourceRequest(GpuRequest.whole(1), 1000, 1024);
    private static final ResourceRequest HALF_GPU = new ResourceRequest(GpuRequest.fraction(500), 1000, 1024);

    @Test
    void aCycleConsidersTheFirstOfEveryLineAndCountsTheRestAsBacklog()
    {
        PendingQueue queue = new PendingQueue(2, 8);
        for (int i = 0; i < 5; i++) {
            queue.put(job("a-" + i, "vision", 0, ONE_GPU, 10 + i), 100);
        }
        queue.put(job("b-0", "vision", 0, HALF_GPU, 3), 100);
        queue.put(job("c-0", "nlp", 0, ONE_GPU, 1), 100);

        // per project, a prefix of priority then arrival order, as long as the project's budget (2 here)
        PendingQueue.Window window = queue.window(160);
        assertThat(window.considered()).extracting(PendingExperiment::id).containsExactlyInAnyOrder("b-0", "a-0", "c-0");
        assertThat(window.considered()).allSatisfy(job -> assertThat(job.age()).isEqualTo(60));
        assertThat(window.beyond()).containsExactly(new WorkloadShape(ONE_GPU, 4));
        assertThat(window.behindCount()).isEqualTo(4);
        assertThat(window.behind()).containsExactly(new PendingQueue.Behind(new PendingQueue.LineKey("vision", 0, true, 1, ONE_GPU), 4));
        assertThat(queue.sizeByProject()).containsExactlyInAnyOrderEntriesOf(Map.of("vision", 6, "nlp", 1));
    }

    @Test
    void aLineRefusedWholeIsPassedOverSoThatLaterWorkOfItsProjectIsConsidered()
    {
        PendingQueue queue = new PendingQueue(2, 8);
        for (int i = 0; i < 10; i++) {
            queue.put(job("big-" + i, "vision", 0, new ResourceRequest(GpuRequest.whole(8), 1000, 1024), i), 0);
        }
        queue.put(job("small", "vision", 0, HALF_GPU, 100), 0);
        assertThat(windowIds(queue)).containsExactly("big-0", "big-1");
        // nothing of that window left: the line is blocked, its head is looked at again and the rest passed over
        assertThat(windowIds(queue)).containsExactlyInAnyOrder("big-0", "small");
        queue.remove("small");
        queue.remove("big-0");
        // room appeared: the line is open again and the project's budget is twice what left
        assertThat(windowIds(queue)).containsExactly("big-1", "big-2", "big-3", "big-4");
    }

    @Test
    void aProjectWhoseWholeWindowLeftGetsADoubleWindowUpToTheMaximumAndFallsBackOtherwise()
    {
        PendingQueue queue = new PendingQueue(2, 4);
        for (int i = 0; i < 20; i++) {
            queue.put(job(String.format("a-%02d", i), "vision", 0, ONE_GPU, i), 0);
        }
        assertThat(windowIds(queue)).containsExactly("a-00", "a-01");
        queue.remove("a-00");
        queue.remove("a-01");
        assertThat(windowIds(queue)).containsExactly("a-02", "a-03", "a-04", "a-05");
        queue.remove("a-02");
        queue.remove("a-03");
        queue.remove("a-04");
        queue.remove("a-05");
        assertThat(windowIds(queue)).hasSize(4);   // the maximum
        queue.remove("a-06");   // only part of the window left
        assertThat(windowIds(queue)).containsExactly("a-07", "a-08");
    }

    @Test
    void puttingAnIdAgainReplacesItAndRemovingAnUnknownIdIsFalse()
    {
        PendingQueue queue = new PendingQueue(4, 4);
        queue.put(job("a", "vision", 0, ONE_GPU, 1), 0);
        queue.put(job("a", "vision", 5, HALF_GPU, 1), 0);
        assertThat(queue.size()).isEqualTo(1);
        assertThat(queue.lineCount()).isEqualTo(1);
        assertThat(queue.window(0).considered()).singleElement().satisfies(job -> assertThat(job.priority()).isEqualTo(5));
        assertThat(queue.remove("nope")).isFalse();
        assertThat(queue.remove("a")).isTrue();
        assertThat(queue.size()).isZero();
        assertThat(queue.lineCount()).isZero();
        assertThat(queue.sizeByProject()).isEmpty();
        assertThatThrownBy(() -> new PendingQueue(0, 4)).hasMessageContaining("1 <= base <= max");
    }

    /**
     * The window changes what a cycle looks at, not the order within a line: cycles over windows never
     * place an experiment ahead of an earlier one of its own line, and lose or duplicate nothing.
     */
    @Property(tries = 30)
    void cyclesOverWindowsKeepEachLineInArrivalOrder(@ForAll @IntRange(min = 1, max = 1000) int seed)
    {
        SplittableRandom random = new SplittableRandom(seed);
        List<Node> nodes = new ArrayList<>();
        for (int n = 0; n < 1 + random.nextInt(6); n++) {
            nodes.add(Node.of("node-" + n, 64_000, 512 * 1024, 8, "H100", 81_920));
        }
        // nothing deserved and one priority: no reclaim or preemption, so what is placed stays placed
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("vision", 0), ProjectQuota.of("nlp", 0));
        PendingQueue queue = new PendingQueue(1 + random.nextInt(3), 8);
        List<PendingExperiment> all = new ArrayList<>();
        for (int i = 0; i < 40 + random.nextInt(80); i++) {
            ResourceRequest request = random.nextBoolean() ? ONE_GPU : HALF_GPU;
            PendingExperiment job = job(String.format("exp-%04d", i), random.nextBoolean() ? "vision" : "nlp", 0, request, i);
            all.add(job);
            queue.put(job, 0);
        }
        SchedulingCycle cycle = new SchedulingCycle(PlacementPolicies.byName(PlacementPolicies.DEFAULT), SchedulingOptions.defaults());
        List<dev.tranche.scheduler.core.model.RunningAllocation> running = new ArrayList<>();
        Map<PendingQueue.LineKey, Long> lastPlacedSequence = new HashMap<>();
        Set<String> placed = new HashSet<>();
        for (int c = 0; c < 30; c++) {
            PendingQueue.Window window = queue.window(c);
            Decisions decisions = cycle.run(new ClusterSnapshot(nodes, quotas, List.of(), running, window.considered(), List.of(), ServiceHistory.NONE,
                    window.beyond()));
            assertThat(decisions.unplaced().size() + decisions.placements().size()).isEqualTo(window.considered().size());
            assertThat(decisions.preemptions()).isEmpty();
            for (Placement placement : decisions.placements()) {
                PendingExperiment job = all.stream().filter(each -> each.id().equals(placement.experimentId())).findFirst().orElseThrow();
                assertThat(queue.remove(job.id())).isTrue();
                assertThat(placed.add(job.id())).isTrue();
                running.add(new dev.tranche.scheduler.core.model.RunningAllocation(job.id(), job.project(), job.priority(), job.preemptible(), c,
                        placement.replicas()));
            }
            // within one line, nothing placed in this cycle or before is later than what is still queued
            for (PendingExperiment job : all) {
                if (!placed.contains(job.id())) {
                    continue;
                }
                PendingQueue.LineKey line = new PendingQueue.LineKey(job.project(), job.priority(), job.preemptible(), job.replicas(), job.request());
                lastPlacedSequence.merge(line, job.arrivalSequence(), Math::max);
            }
            for (PendingExperiment job : all) {
                if (placed.contains(job.id())) {
                    continue;
                }
                PendingQueue.LineKey line = new PendingQueue.LineKey(job.project(), job.priority(), job.preemptible(), job.replicas(), job.request());
                assertThat(job.arrivalSequence()).as("queued %s behind a placed experiment of its line", job.id())
                        .isGreaterThan(lastPlacedSequence.getOrDefault(line, -1L));
            }
        }
        assertThat(placed.size() + queue.size()).isEqualTo(all.size());
    }

    private static List<String> windowIds(PendingQueue queue)
    {
        return queue.window(0).considered().stream().map(PendingExperiment::id).toList();
    }

    private static PendingExperiment job(String id, String project, int priority, ResourceRequest request, long sequence)
    {
        return new PendingExperiment(id, project, priority, true, 1, request, sequence, 0);
    }
}
