package dev.tranche.scheduler.scheduling;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.Gpu;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.Node;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.QuotaUsage;
import dev.tranche.proto.v1.StateTransition;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Through the running service (gRPC, scheduling loop, PostgreSQL): a starved in-quota project takes
 * GPUs back from a project that borrowed them, and nothing is ever over-committed on the way.
 */
final class ReclaimEndToEndTest
{
    private TestingScheduler scheduler;
    private TrancheClient client;

    @BeforeEach
    void start()
    {
        // 2 nodes x 2 GPUs
        scheduler = new TestingScheduler(Optional.of(DeclaredInventory.of(2, 2, 24 * 1024)));
        client = scheduler.client();
        client.createProject(Project.newBuilder().setName("borrower").build());
        client.createProject(Project.newBuilder().setName("owner").build());
        client.setQuota("borrower", Quota.newBuilder().setDeservedGpus(1).build());
        client.setQuota("owner", Quota.newBuilder().setDeservedGpus(3).build());
    }

    @AfterEach
    void stop()
    {
        scheduler.close();
    }

    @Test
    void inQuotaSubmissionPreemptsBorrowedGpusAndIsPlaced()
    {
        AtomicBoolean watching = new AtomicBoolean(true);
        AtomicReference<String> overCommitted = new AtomicReference<>();
        Thread watcher = new Thread(() -> {
            // every 20 ms, for the whole test: no GPU above 1000 milli, as the API reports it
            while (watching.get()) {
                for (Node node : client.listNodes().getNodesList()) {
                    for (Gpu gpu : node.getGpusList()) {
                        int held = gpu.getHoldersList().stream().mapToInt(share -> share.getMilli()).sum();
                        if (gpu.getUsedMilli() > 1000 || held != gpu.getUsedMilli()) {
                            overCommitted.compareAndSet(null, node.getName() + " GPU " + gpu.getIndex() + ": " + gpu);
                        }
                    }
                }
                try {
                    Thread.sleep(20);
                }
                catch (InterruptedException e) {
                    return;
                }
            }
        });
        watcher.start();
        try {
            // the borrower fills all 4 GPUs: 1 in quota, 3 borrowed while the owner is idle
            List<String> borrowed = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                borrowed.add(client.submit(wholeGpus("borrow-" + i, "borrower", 1)).getExperiment().getId());
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> borrowed.stream().allMatch(id -> client.get(id).getState() == ExperimentState.SCHEDULED));
            assertThat(usage("borrower").getUsedGpus()).isEqualTo(4);
            assertThat(usage("borrower").getOverQuotaGpus()).isEqualTo(3);

            // the owner wants 2 of its 3 deserved GPUs: the cluster is full, so borrowed GPUs come back
            String owned = client.submit(wholeGpus("owner-run", "owner", 2)).getExperiment().getId();
            await().atMost(Duration.ofSeconds(20)).until(() -> client.get(owned).getState() == ExperimentState.SCHEDULED);

            List<Experiment> preempted = borrowed.stream().map(client::get)
                    .filter(experiment -> experiment.getHistoryList().stream().anyMatch(step -> step.getTo() == ExperimentState.PREEMPTED))
                    .toList();
            assertThat(preempted).hasSize(2);
            for (Experiment victim : preempted) {
                List<StateTransition> history = victim.getHistoryList();
                StateTransition preemption = history.stream().filter(step -> step.getTo() == ExperimentState.PREEMPTED).findFirst().orElseThrow();
                assertThat(preemption.getFrom()).isEqualTo(ExperimentState.SCHEDULED);
                assertThat(preemption.getReason()).isNotBlank().contains(owned);
                assertThat(history.get(history.indexOf(preemption) + 1).getTo()).isEqualTo(ExperimentState.PENDING);
                assertThat(history.get(history.indexOf(preemption) + 1).getReason()).startsWith("back in the queue after preemption");
                // it waits now, and says why
                assertThat(victim.getState()).isEqualTo(ExperimentState.PENDING);
            }
            assertThat(client.get(owned).getReason()).contains("after preempting");
            // the in-quota experiment of the borrower was not touched
            assertThat(usage("borrower").getUsedGpus()).isEqualTo(2);
            assertThat(usage("owner").getUsedGpus()).isEqualTo(2);
            await().atMost(Duration.ofSeconds(10)).until(() -> preempted.stream().allMatch(victim -> client.get(victim.getId()).getReason().startsWith("waiting: ")));
        }
        finally {
            watching.set(false);
        }
        assertThat(overCommitted.get()).as("over-committed GPU seen").isNull();
        assertThat(scheduler.count("SELECT count(*) FROM gpus WHERE used_milli > 1000")).isZero();
    }

    @Test
    void cancellingAScheduledExperimentGivesItsGpusBack()
    {
        String id = client.submit(wholeGpus("short", "owner", 2)).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);
        assertThat(usage("owner").getUsedGpus()).isEqualTo(2);
        client.cancel(id, "");
        assertThat(usage("owner").getUsedGpus()).isZero();
        assertThat(scheduler.count("SELECT coalesce(sum(used_milli), 0) FROM gpus")).isZero();
    }

    @Test
    void fractionalExperimentsShareOneGpuAndAnImpossibleOneSaysWhy()
    {
        List<String> halves = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            halves.add(client.submit(fraction("half-" + i, "owner", 0.5)).getExperiment().getId());
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> halves.stream().allMatch(id -> client.get(id).getState() == ExperimentState.SCHEDULED));
        String tooBig = client.submit(wholeGpus("too-big", "owner", 4).toBuilder().setReplicas(2).build()).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(tooBig).getReason().startsWith("waiting: "));
        assertThat(client.get(tooBig).getState()).isEqualTo(ExperimentState.PENDING);
        assertThat(client.list(ListExperimentsRequest.newBuilder().setProject("owner").addStates(ExperimentState.SCHEDULED).build()).getExperimentsCount())
                .isEqualTo(2);
    }

    @Test
    void theDatabaseItselfRefusesAnOverCommittedGpu()
            throws SQLException
    {
        String a = client.submit(fraction("a", "owner", 0.5)).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(a).getState() == ExperimentState.SCHEDULED);
        try (Connection connection = DriverManager.getConnection(scheduler.jdbcUrl());
                Statement statement = connection.createStatement()) {
            var row = statement.executeQuery("SELECT node, gpu_index FROM gpu_allocations WHERE experiment_id = '" + a + "'");
            row.next();
            String node = row.getString(1);
            int gpu = row.getInt(2);
            // a hand-made second share of 0.6 on a GPU that has 0.5 taken
            statement.executeUpdate("INSERT INTO replica_placements (experiment_id, replica, node, cpu_milli, memory_mib) VALUES ('" + a + "', 7, '" + node + "', 0, 0)");
            assertThatThrownBy(() -> statement.executeUpdate("INSERT INTO gpu_allocations (experiment_id, replica, node, gpu_index, milli) VALUES ('"
                    + a + "', 7, '" + node + "', " + gpu + ", 600)"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("gpu_not_overcommitted");
            // growing a share in place is tracked too
            assertThatThrownBy(() -> statement.executeUpdate("UPDATE gpu_allocations SET milli = 1001 WHERE experiment_id = '" + a + "'"))
                    .isInstanceOf(SQLException.class);
            statement.executeUpdate("UPDATE gpu_allocations SET milli = 700 WHERE experiment_id = '" + a + "'");
            var used = statement.executeQuery("SELECT used_milli FROM gpus WHERE node = '" + node + "' AND index = " + gpu);
            used.next();
            assertThat(used.getInt(1)).isEqualTo(700);
        }
    }

    @Test
    void aDepartmentLimitCapsAllOfItsProjectsTogether()
    {
        client.createDepartment(dev.tranche.proto.v1.Department.newBuilder().setName("research").build());
        client.setDepartmentQuota("research", Quota.newBuilder().setDeservedGpus(1).setLimitGpus(2).build());
        client.createProject(Project.newBuilder().setName("vision").setDepartment("research").build());
        client.createProject(Project.newBuilder().setName("speech").setDepartment("research").build());
        String first = client.submit(wholeGpus("vision-run", "vision", 2)).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(first).getState() == ExperimentState.SCHEDULED);
        String second = client.submit(wholeGpus("speech-run", "speech", 1)).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(second).getReason().startsWith("waiting: "));
        assertThat(client.get(second).getState()).isEqualTo(ExperimentState.PENDING);
        assertThat(client.get(second).getReason()).contains("department research");
        assertThat(client.listProjects()).filteredOn(project -> project.getName().equals("speech")).singleElement()
                .satisfies(project -> assertThat(project.getDepartment()).isEqualTo("research"));
        assertThatThrownBy(() -> client.createProject(Project.newBuilder().setName("orphan").setDepartment("nowhere").build()))
                .hasMessageContaining("NOT_FOUND: department nowhere does not exist");
    }

    private QuotaUsage usage(String project)
    {
        return client.listQuotas().getQuotasList().stream().filter(quota -> quota.getProject().equals(project)).findFirst().orElseThrow();
    }

    private static ExperimentSpec wholeGpus(String name, String project, int count)
    {
        ExperimentSpec spec = Specs.named(name, project);
        return spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(count))).build();
    }

    private static ExperimentSpec fraction(String name, String project, double fraction)
    {
        ExperimentSpec spec = Specs.named(name, project);
        return spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setFraction(fraction))).build();
    }
}
