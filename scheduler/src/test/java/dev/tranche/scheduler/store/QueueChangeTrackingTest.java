package dev.tranche.scheduler.store;

import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduling loop reads the queue whole once and then only what changed: nothing committed may
 * be missed, not even a write whose transaction began before a read and committed after it.
 */
final class QueueChangeTrackingTest
{
    @RegisterExtension
    static final TestingDatabase database = new TestingDatabase();

    @Test
    void aDeltaHoldsEveryChangeSinceThePreviousReadIncludingOneCommittedLate()
            throws Exception
    {
        ExperimentRepository experiments = new ExperimentRepository(database.dataSource());
        ClusterRepository cluster = new ClusterRepository(database.dataSource());
        experiments.insert("exp-track00001", Specs.accepted("one", "default"), Optional.empty(), "submitted");
        experiments.insert("exp-track00002", Specs.accepted("two", "default"), Optional.empty(), "submitted");

        ClusterRepository.QueueDelta first = cluster.snapshotSince(Optional.empty());
        assertThat(first.complete()).isTrue();
        assertThat(ids(first)).contains("exp-track00001", "exp-track00002");
        assertThat(first.specs()).containsKeys("exp-track00001", "exp-track00002");

        // a writer that began before the next read and commits after it
        try (Connection late = database.dataSource().getConnection()) {
            late.setAutoCommit(false);
            try (PreparedStatement update = late.prepareStatement("UPDATE experiments SET reason = 'late' WHERE id = 'exp-track00002'")) {
                update.executeUpdate();
            }
            experiments.insert("exp-track00003", Specs.accepted("three", "default"), Optional.empty(), "submitted");
            ClusterRepository.QueueDelta second = cluster.snapshotSince(Optional.of(first.mark()));
            assertThat(second.complete()).isFalse();
            assertThat(ids(second)).contains("exp-track00003").doesNotContain("exp-track00001");
            assertThat(second.snapshot().pending()).filteredOn(queued -> queued.id().equals("exp-track00002"))
                    .allSatisfy(queued -> assertThat(queued.reason()).isEqualTo("submitted"));

            // while that writer is still open, the next read brings what is new and not again what the
            // previous read saw (a read bounded by the open writer's xid re-read every row since it)
            experiments.insert("exp-track00004", Specs.accepted("four", "default"), Optional.empty(), "submitted");
            ClusterRepository.QueueDelta meanwhile = cluster.snapshotSince(Optional.of(second.mark()));
            assertThat(ids(meanwhile)).containsExactly("exp-track00004");
            late.commit();

            ClusterRepository.QueueDelta third = cluster.snapshotSince(Optional.of(meanwhile.mark()));
            assertThat(third.snapshot().pending()).filteredOn(queued -> queued.id().equals("exp-track00002")).singleElement()
                    .satisfies(queued -> assertThat(queued.reason()).isEqualTo("late"));
        }

        // leaving the queue is a change too; a row that left carries no spec
        try (Connection connection = database.dataSource().getConnection();
                PreparedStatement update = connection.prepareStatement("UPDATE experiments SET state = 'CANCELLED' WHERE id = 'exp-track00001'")) {
            update.executeUpdate();
        }
        ClusterRepository.QueueDelta fourth = cluster.snapshotSince(Optional.of(first.mark()));
        assertThat(fourth.snapshot().pending()).filteredOn(queued -> queued.id().equals("exp-track00001")).singleElement()
                .satisfies(queued -> assertThat(queued.state()).isEqualTo(ExperimentState.CANCELLED));
        assertThat(fourth.specs()).doesNotContainKey("exp-track00001");
        // nothing written since: an empty delta
        ClusterRepository.QueueDelta quiet = cluster.snapshotSince(Optional.of(cluster.snapshotSince(Optional.of(fourth.mark())).mark()));
        assertThat(quiet.snapshot().pending()).isEmpty();
    }

    private static List<String> ids(ClusterRepository.QueueDelta delta)
    {
        return delta.snapshot().pending().stream().map(ClusterRepository.Queued::id).toList();
    }
}
