package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static dev.tranche.scheduler.core.Fixtures.gpus;
import static dev.tranche.scheduler.core.Fixtures.node;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The model rejects what cannot be scheduled, with messages that say why. */
class TestModelValidation
{
    @Test
    void gpuRequests()
    {
        assertThatThrownBy(() -> GpuRequest.fraction(0)).hasMessage("a fractional GPU request needs milli in 1..1000, got 0");
        assertThatThrownBy(() -> GpuRequest.fraction(1001)).hasMessage("a fractional GPU request needs milli in 1..1000, got 1001");
        assertThatThrownBy(() -> GpuRequest.whole(0)).hasMessage("a whole-GPU request needs count >= 1, got 0");
        assertThatThrownBy(() -> GpuRequest.memory(0)).hasMessage("a GPU memory request needs memoryMib >= 1, got 0");
        assertThatThrownBy(() -> GpuRequest.none().onModels(Set.of("T4"))).hasMessage("a request for no GPU cannot name GPU models");
        assertThat(GpuRequest.memory(8_000).milliOn(16_384)).isEqualTo(489);
        assertThat(GpuRequest.memory(40_000).milliOn(16_384)).isGreaterThan(1000);
        assertThat(GpuRequest.fraction(250).toString()).isEqualTo("0.25 GPU");
        assertThat(GpuRequest.whole(2).onModels(Set.of("T4", "A10")).toString()).isEqualTo("2 GPUs (A10|T4)");
    }

    /** GPU amounts in reasons read as they did when String.format wrote them: one decimal for tenths, else up to three. */
    @Test
    void gpuAmountsReadTheSameAsFormatted()
    {
        for (long milli = -20_000; milli <= 2_000_000; milli += milli < 20_000 ? 1 : 997) {
            String formatted = milli % 100 == 0
                    ? String.format(java.util.Locale.ROOT, "%.1f", milli / 1000.0)
                    : String.format(java.util.Locale.ROOT, "%.3f", milli / 1000.0).replaceAll("0+$", "");
            assertThat(GpuRequest.formatGpus(milli)).as("%d milli", milli).isEqualTo(formatted);
        }
        assertThat(GpuRequest.formatGpus(1500)).isEqualTo("1.5");
        assertThat(GpuRequest.formatGpus(8000)).isEqualTo("8.0");
        assertThat(GpuRequest.formatGpus(10)).isEqualTo("0.01");
        assertThat(GpuRequest.formatGpus(1)).isEqualTo("0.001");
    }

    @Test
    void quotas()
    {
        assertThatThrownBy(() -> ProjectQuota.of("team-a", 2000).withLimit(1000)).hasMessage("project team-a: limit 1000 is below deserved 2000");
        assertThatThrownBy(() -> ProjectQuota.of("team-a", 0).withWeight(0)).hasMessage("project team-a: over-quota weight must be > 0, got 0.0");
    }

    @Test
    void experimentsAndPlacements()
    {
        assertThatThrownBy(() -> new PendingExperiment("e", "p", 0, true, 0, gpus(GpuRequest.whole(1)), 0, 0)).hasMessage("experiment e needs at least 1 replica, got 0");
        assertThatThrownBy(() -> new ReplicaPlacement("n1", Map.of(0, 1200), 0, 0)).hasMessage("replica on n1 holds 1200 milli of GPU 0; must be 1..1000");
        assertThatThrownBy(() -> new ResourceRequest(GpuRequest.none(), -1, 0)).hasMessage("cpuMilli must not be negative, got -1");
    }

    @Test
    void snapshotsRejectDuplicates()
    {
        PendingExperiment job = new PendingExperiment("e", "p", 0, true, 1, gpus(GpuRequest.whole(1)), 0, 0);
        assertThatThrownBy(() -> new ClusterSnapshot(List.of(node("n1", 1), node("n1", 2)), List.of(), List.of(), List.of()))
                .hasMessage("node n1 appears twice in the snapshot");
        assertThatThrownBy(() -> new ClusterSnapshot(List.of(node("n1", 1)), List.of(), List.of(), List.of(job, job)))
                .hasMessage("experiment e appears twice in the snapshot");
    }

    /** Ids whose hashes collide ("Aa" and "BB" hash alike) are told apart; a duplicate deep in a large backlog is found. */
    @Test
    void snapshotsTellCollidingIdsApartAndFindADuplicateAnywhere()
    {
        List<PendingExperiment> backlog = new java.util.ArrayList<>();
        for (String prefix : List.of("Aa", "BB")) {
            for (int i = 0; i < 5_000; i++) {
                backlog.add(new PendingExperiment(prefix + i, "p", 0, true, 1, gpus(GpuRequest.whole(1)), 0, 0));
            }
        }
        assertThat(new ClusterSnapshot(List.of(node("n1", 1)), List.of(), List.of(), backlog).pending()).hasSize(10_000);
        backlog.add(new PendingExperiment("BB4321", "p", 0, true, 1, gpus(GpuRequest.whole(1)), 0, 0));
        assertThatThrownBy(() -> new ClusterSnapshot(List.of(node("n1", 1)), List.of(), List.of(), backlog))
                .hasMessage("experiment BB4321 appears twice in the snapshot");
        assertThatThrownBy(() -> new ClusterSnapshot(List.of(node("n1", 1)), List.of(ProjectQuota.of("p", 0), ProjectQuota.of("p", 1)), List.of(), List.of()))
                .hasMessage("project quota p appears twice in the snapshot");
    }

    /** A replica's GPU shares read as the sorted, unmodifiable map they always were, however they were given. */
    @Property(tries = 200)
    void replicaSharesAreASortedUnmodifiableMap(@ForAll("shares") Map<Integer, Integer> given)
    {
        ReplicaPlacement replica = new ReplicaPlacement("n1", given, 0, 0);
        TreeMap<Integer, Integer> expected = new TreeMap<>(given);
        assertThat(replica.gpuMilli()).isEqualTo(expected).hasSameHashCodeAs(expected).hasToString(expected.toString());
        assertThat(expected).isEqualTo(replica.gpuMilli());
        assertThat(List.copyOf(replica.gpuMilli().keySet())).isEqualTo(List.copyOf(expected.keySet()));
        assertThat(replica.totalGpuMilli()).isEqualTo(expected.values().stream().mapToLong(Integer::longValue).sum());
        for (int i = -1; i <= 16; i++) {
            assertThat(replica.gpuMilli().get(i)).isEqualTo(expected.get(i));
        }
        assertThat(replica.gpuMilli().get("0")).isNull();
        int[] indexes = new int[replica.gpuCount()];
        int[] milli = new int[replica.gpuCount()];
        for (int i = 0; i < indexes.length; i++) {
            indexes[i] = replica.gpuIndex(i);
            milli[i] = replica.gpuMilliAt(i);
        }
        assertThat(ReplicaPlacement.of("n1", indexes, milli, 0, 0)).isEqualTo(replica);
        assertThatThrownBy(() -> replica.gpuMilli().put(99, 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> replica.gpuMilli().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> replica.gpuMilli().remove(0)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> replica.gpuMilli().keySet().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Provide
    Arbitrary<Map<Integer, Integer>> shares()
    {
        return Arbitraries.maps(Arbitraries.integers().between(0, 15), Arbitraries.integers().between(1, 1000)).ofMaxSize(16);
    }

    @Test
    void replicaSharesGivenAsArrays()
    {
        assertThat(ReplicaPlacement.of("n1", new int[] {3, 0}, new int[] {250, 1000}, 1, 2))
                .isEqualTo(new ReplicaPlacement("n1", Map.of(0, 1000, 3, 250), 1, 2));
        assertThatThrownBy(() -> ReplicaPlacement.of("n1", new int[] {2, 2}, new int[] {250, 250}, 0, 0)).hasMessage("GPU 2 is listed twice");
        assertThatThrownBy(() -> ReplicaPlacement.of("n1", new int[] {0, 1}, new int[] {250}, 0, 0)).hasMessage("2 GPU indexes but 1 amounts");
        assertThatThrownBy(() -> ReplicaPlacement.of("n1", new int[] {0}, new int[] {0}, 0, 0)).hasMessage("replica on n1 holds 0 milli of GPU 0; must be 1..1000");
    }
}
