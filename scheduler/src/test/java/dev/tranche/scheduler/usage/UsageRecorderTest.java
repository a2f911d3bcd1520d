package dev.tranche.scheduler.usage;

import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.store.ProjectRepository;
import dev.tranche.scheduler.store.UsageRepository;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Usage over time against real PostgreSQL: what a sample says each project held, deserved and had
 * waiting; one sample per minute however often (or by however many restarted recorders) it is taken;
 * old samples go; waits per day come from the experiments' timelines.
 */
final class UsageRecorderTest
{
    @RegisterExtension
    static final TestingDatabase database = new TestingDatabase();

    @Test
    void samplesWhatEachProjectHeldAndWaitedOncePerMinuteAcrossRestarts()
            throws Exception
    {
        new ClusterRepository(database.dataSource()).registerNodes(DeclaredInventory.of(2, 2, 24 * 1024).nodes());
        ProjectRepository projects = new ProjectRepository(database.dataSource());
        projects.create("vision", "", Optional.empty());
        projects.setQuota("vision", 2000, OptionalLong.empty(), 1.0);
        ExperimentRepository experiments = new ExperimentRepository(database.dataSource());
        experiments.insert("exp-usage00001", Specs.accepted("runs", "vision"), Optional.empty(), "submitted");
        experiments.insert("exp-usage00002", Specs.accepted("waits", "vision"), Optional.empty(), "submitted");
        new PlacementWriter(database.dataSource()).place("exp-usage00001", List.of(new ReplicaPlacement("local-1", Map.of(0, 1000), 1000, 1024)),
                "placed", List.of());
        // a sample older than the retention, which the next sample removes
        database.execute("INSERT INTO usage_samples (at, project, held_milli, deserved_milli, pending) VALUES (now() - interval '100 days', 'vision', 5, 5, 5)");

        SchedulerMetrics metrics = new SchedulerMetrics();
        UsageRecorder recorder = new UsageRecorder(new UsageRepository(database.dataSource()), Duration.ofMinutes(1), Duration.ofDays(90),
                sample -> sample.forEach(project -> metrics.recordProjectUsage(project.project(), project.heldMilli(), project.deservedMilli())));
        List<UsageStore.ProjectSample> first = recorder.sample();
        assertThat(first).filteredOn(sample -> sample.project().equals("vision")).singleElement().satisfies(sample -> {
            assertThat(sample.heldMilli()).isEqualTo(1000);
            assertThat(sample.deservedMilli()).isEqualTo(2000);
            assertThat(sample.pending()).isEqualTo(1);
        });
        assertThat(first).filteredOn(sample -> sample.project().equals("default")).singleElement()
                .satisfies(sample -> assertThat(sample.heldMilli()).isZero());
        assertThat(metrics.scrape()).contains("tranche_project_gpu_held_milli{project=\"vision\"} 1000.0")
                .contains("tranche_project_gpu_deserved_milli{project=\"vision\"} 2000.0");

        // sampled again, by this recorder and by a new one (a restarted scheduler): never two rows for one minute
        recorder.sample();
        new UsageRecorder(new UsageRepository(database.dataSource()), Duration.ofMinutes(1), Duration.ofDays(90), sample -> {}).sample();
        assertThat(database.count("SELECT count(*) FROM usage_samples")).isEqualTo(database.count("SELECT count(DISTINCT (project, at)) FROM usage_samples"));
        assertThat(database.count("SELECT count(*) FROM cluster_usage_samples")).isEqualTo(database.count("SELECT count(DISTINCT at) FROM cluster_usage_samples"));
        assertThat(database.count("SELECT count(*) FROM usage_samples WHERE at < now() - interval '90 days'")).as("older than the retention").isZero();

        UsageStore.UsageHistory history = new UsageRepository(database.dataSource()).history(Instant.now().minus(Duration.ofDays(1)), Optional.of(Set.of("vision")),
                Duration.ofMinutes(1));
        assertThat(history.projects()).isNotEmpty().allSatisfy(sample -> assertThat(sample.project()).isEqualTo("vision"));
        assertThat(history.cluster()).isNotEmpty().allSatisfy(sample -> {
            assertThat(sample.capacityMilli()).isEqualTo(4000);
            assertThat(sample.allocatedMilli()).isEqualTo(1000);
        });
        // the placed experiment started today, after a wait of well under a minute
        assertThat(history.waits()).singleElement().satisfies(wait -> {
            assertThat(wait.project()).isEqualTo("vision");
            assertThat(wait.started()).isEqualTo(1);
            assertThat(wait.p95Seconds()).isBetween(0.0, 60.0);
        });
        assertThat(new UsageRepository(database.dataSource()).history(Instant.now().minus(Duration.ofDays(1)), Optional.of(Set.of("default")), Duration.ofMinutes(1))
                .waits()).isEmpty();

        // a long period comes back in buckets: the mean held over each, the most that waited
        database.execute("INSERT INTO usage_samples (at, project, held_milli, deserved_milli, pending) VALUES "
                + "(date_trunc('hour', now()) - interval '3 hours', 'vision', 1000, 2000, 1), "
                + "(date_trunc('hour', now()) - interval '3 hours' + interval '1 minute', 'vision', 3000, 2000, 4)");
        UsageStore.UsageHistory hourly = new UsageRepository(database.dataSource()).history(Instant.now().minus(Duration.ofHours(5)), Optional.of(Set.of("vision")),
                Duration.ofHours(1));
        assertThat(hourly.projects()).filteredOn(sample -> sample.at().isBefore(Instant.now().minus(Duration.ofMinutes(150)))).singleElement().satisfies(sample -> {
            assertThat(sample.heldMilli()).isEqualTo(2000);
            assertThat(sample.pending()).isEqualTo(4);
        });
    }
}
