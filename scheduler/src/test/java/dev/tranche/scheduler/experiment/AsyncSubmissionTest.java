package dev.tranche.scheduler.experiment;

import dev.tranche.scheduler.errors.AlreadyExistsException;
import dev.tranche.scheduler.errors.ShuttingDownException;
import dev.tranche.scheduler.experiment.ExperimentStore.IdClashException;
import dev.tranche.scheduler.experiment.ExperimentStore.Inserted;
import dev.tranche.scheduler.experiment.ExperimentStore.NewExperiment;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A submission is answered when its group commit is done, without holding the caller's thread
 * meanwhile: one thread can hand in a burst while a commit is slow (real PostgreSQL behind a gate).
 */
final class AsyncSubmissionTest
{
    @RegisterExtension
    static final TestingDatabase database = new TestingDatabase();

    @TempDir
    Path home;

    @Test
    void oneThreadHandsInABurstWhileTheStoreIsHeldAndEveryoneIsAnsweredAfterTheCommit()
            throws Exception
    {
        CountDownLatch gate = new CountDownLatch(1);
        Gated store = new Gated(new ExperimentRepository(database.dataSource()), gate, 0);
        List<ExperimentChange> told = new CopyOnWriteArrayList<>();
        ExperimentEventBus events = new ExperimentEventBus();
        events.subscribe(change -> true, told::add);
        try (SubmissionWriter writer = new SubmissionWriter(store, 1, 16, 100)) {
            ExperimentManager manager = new ExperimentManager(store, writer, events, DatasetRoots.defaults(home));
            List<CompletableFuture<ExperimentManager.Submission>> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                answers.add(manager.submit(Specs.accepted("burst-" + i, "default"), ""));
            }
            // all twenty handed in from this one thread while the first commit cannot finish
            assertThat(answers).noneMatch(CompletableFuture::isDone);
            assertThat(told).isEmpty();

            gate.countDown();
            List<String> ids = new ArrayList<>();
            for (CompletableFuture<ExperimentManager.Submission> answer : answers) {
                ExperimentManager.Submission submission = answer.get(30, TimeUnit.SECONDS);
                assertThat(submission.created()).isTrue();
                assertThat(store.find(submission.experiment().id())).isPresent();
                ids.add(submission.experiment().id());
            }
            assertThat(ids).doesNotHaveDuplicates();
            // watchers hear of each only after it is stored
            assertThat(told).extracting(change -> change.experiment().id()).containsExactlyInAnyOrderElementsOf(ids);
        }
    }

    @Test
    void anIdThatClashesIsDrawnAgainAndARequestIdReusedForAnotherSpecIsRefused()
            throws Exception
    {
        Gated store = new Gated(new ExperimentRepository(database.dataSource()), new CountDownLatch(0), 1);
        try (SubmissionWriter writer = new SubmissionWriter(store, 1, 16, 100)) {
            ExperimentManager manager = new ExperimentManager(store, writer, new ExperimentEventBus(), DatasetRoots.defaults(home));
            ExperimentManager.Submission submission = manager.submit(Specs.accepted("clash", "default"), "").get(30, TimeUnit.SECONDS);
            assertThat(submission.created()).isTrue();
            assertThat(store.clashed).hasSize(1);
            assertThat(submission.experiment().id()).isNotEqualTo(store.clashed.get(0));

            String request = "request-" + UUID.randomUUID();
            ExperimentManager.Submission first = manager.submit(Specs.accepted("first", "default"), request).get(30, TimeUnit.SECONDS);
            ExperimentManager.Submission again = manager.submit(Specs.accepted("first", "default"), request).get(30, TimeUnit.SECONDS);
            assertThat(again.created()).isFalse();
            assertThat(again.experiment().id()).isEqualTo(first.experiment().id());
            // the domain's own exception, not a wrapper, is what the API maps to a status
            assertThatThrownBy(() -> manager.submit(Specs.accepted("other", "default"), request).get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(AlreadyExistsException.class)
                    .hasMessage("request_id " + request + " was used for experiment " + first.experiment().id()
                            + " with a different spec; use a new request id for a new experiment");
        }
    }

    @Test
    void aWatcherThatFailsNeitherFailsTheStoredSubmissionNorKeepsTheOthersUninformed()
            throws Exception
    {
        ExperimentEventBus events = new ExperimentEventBus();
        events.subscribe(change -> true, change -> {
            throw new IllegalStateException("a broken watcher");
        });
        List<ExperimentChange> told = new CopyOnWriteArrayList<>();
        events.subscribe(change -> true, told::add);
        Gated store = new Gated(new ExperimentRepository(database.dataSource()), new CountDownLatch(0), 0);
        try (SubmissionWriter writer = new SubmissionWriter(store, 1, 16, 100)) {
            ExperimentManager manager = new ExperimentManager(store, writer, events, DatasetRoots.defaults(home));
            ExperimentManager.Submission submission = manager.submit(Specs.accepted("watched", "default"), "").get(30, TimeUnit.SECONDS);
            assertThat(submission.created()).isTrue();
            assertThat(told).extracting(change -> change.experiment().id()).containsExactly(submission.experiment().id());
        }
    }

    @Test
    void badInputIsRefusedAtOnceAndNothingIsQueued()
    {
        Gated store = new Gated(new ExperimentRepository(database.dataSource()), new CountDownLatch(0), 0);
        try (SubmissionWriter writer = new SubmissionWriter(store, 1, 16, 100)) {
            ExperimentManager manager = new ExperimentManager(store, writer, new ExperimentEventBus(), DatasetRoots.defaults(home));
            assertThatThrownBy(() -> manager.submit(Specs.accepted("bad", "default"), "x".repeat(129)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("request_id must be at most 128 printable characters: got 129 characters");
            assertThat(store.inserts.get()).isZero();
        }
    }

    /**
     * Once close has begun a submission is refused as the server shutting down (before: RESOURCE_EXHAUSTED
     * as if overloaded), and every one accepted before is stored before close returns, though the
     * store is slow: none is acknowledged and lost.
     */
    @Test
    void aSubmissionAfterCloseBeganIsRefusedAsShuttingDownAndEveryOneAcceptedBeforeIsStored()
            throws Exception
    {
        CountDownLatch gate = new CountDownLatch(1);
        Gated store = new Gated(new ExperimentRepository(database.dataSource()), gate, 0);
        SubmissionWriter writer = new SubmissionWriter(store, 1, 4, 100);
        ExperimentManager manager = new ExperimentManager(store, writer, new ExperimentEventBus(), DatasetRoots.defaults(home));
        List<CompletableFuture<ExperimentManager.Submission>> accepted = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            accepted.add(manager.submit(Specs.accepted("before-close-" + i, "default"), ""));
        }
        Thread closing = new Thread(writer::close, "closing");
        closing.start();
        // close waits for the store; meanwhile it takes nothing new
        RuntimeException refused = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (refused == null && System.nanoTime() < deadline) {
            try {
                accepted.add(manager.submit(Specs.accepted("racing-close", "default"), ""));
            }
            catch (RuntimeException e) {
                refused = e;
            }
        }
        assertThat(refused).isInstanceOf(ShuttingDownException.class)
                .hasMessage("the scheduler is shutting down and takes no new submissions; nothing was stored, submit again in a moment");
        assertThat(closing.isAlive()).isTrue();
        assertThat(accepted).noneMatch(CompletableFuture::isDone);

        gate.countDown();
        closing.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(closing.isAlive()).isFalse();
        // close returned: every accepted submission is answered, and stored
        assertThat(accepted).allMatch(CompletableFuture::isDone);
        for (CompletableFuture<ExperimentManager.Submission> answer : accepted) {
            assertThat(store.find(answer.getNow(null).experiment().id())).isPresent();
        }
        assertThatThrownBy(() -> manager.submit(Specs.accepted("after-close", "default"), ""))
                .isInstanceOf(ShuttingDownException.class);
    }

    /**
     * Threads submitting while the writer closes: each submission is either refused as shutting down,
     * or accepted and then stored by the time close returns. Before, one accepted in the instant close
     * began could be queued after the writers had stopped, and its caller waited for ever.
     */
    @Test
    void submissionsRacingCloseAreEachStoredOrRefusedNeverLost()
            throws Exception
    {
        for (int round = 0; round < 5; round++) {
            Gated store = new Gated(new ExperimentRepository(database.dataSource()), new CountDownLatch(0), 0);
            SubmissionWriter writer = new SubmissionWriter(store, 2, 8, 10_000);
            ExperimentManager manager = new ExperimentManager(store, writer, new ExperimentEventBus(), DatasetRoots.defaults(home));
            List<CompletableFuture<ExperimentManager.Submission>> accepted = new CopyOnWriteArrayList<>();
            List<RuntimeException> refusals = new CopyOnWriteArrayList<>();
            CountDownLatch started = new CountDownLatch(4);
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                Thread submitter = new Thread(() -> {
                    started.countDown();
                    for (int i = 0; ; i++) {
                        try {
                            accepted.add(manager.submit(Specs.accepted("race-" + thread + "-" + i, "default"), ""));
                        }
                        catch (RuntimeException e) {
                            refusals.add(e);
                            return;
                        }
                    }
                });
                submitters.add(submitter);
                submitter.start();
            }
            started.await();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (accepted.size() < 20 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            writer.close();
            // close returned: nothing accepted is still waiting
            assertThat(accepted).as("round %d", round).allMatch(CompletableFuture::isDone);
            for (Thread submitter : submitters) {
                submitter.join(TimeUnit.SECONDS.toMillis(10));
            }
            assertThat(refusals).hasSize(4).allMatch(e -> e instanceof ShuttingDownException, "refused as shutting down");
            assertThat(accepted).isNotEmpty();
            for (CompletableFuture<ExperimentManager.Submission> answer : accepted) {
                assertThat(store.find(answer.getNow(null).experiment().id())).isPresent();
            }
        }
    }

    /** The real repository, with every insert waiting for a gate and the first {@code clashes} inserts refused as id clashes. */
    private static final class Gated
            implements ExperimentStore
    {
        private final ExperimentStore delegate;
        private final CountDownLatch gate;
        private final AtomicInteger clashesLeft;
        private final AtomicInteger inserts = new AtomicInteger();
        private final List<String> clashed = new CopyOnWriteArrayList<>();

        Gated(ExperimentStore delegate, CountDownLatch gate, int clashes)
        {
            this.delegate = delegate;
            this.gate = gate;
            this.clashesLeft = new AtomicInteger(clashes);
        }

        private void pass()
        {
            inserts.incrementAndGet();
            try {
                if (!gate.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("gate never opened");
                }
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Inserted insert(String id, ExperimentSpec spec, Optional<String> requestId, String reason)
        {
            pass();
            if (clashesLeft.getAndDecrement() > 0) {
                clashed.add(id);
                throw new IdClashException(id);
            }
            return delegate.insert(id, spec, requestId, reason);
        }

        @Override
        public List<Inserted> insertAll(List<NewExperiment> batch)
        {
            pass();
            if (clashesLeft.get() > 0) {
                // the writer then stores the batch row by row, where the clash is met
                throw new IdClashException(batch.get(0).id());
            }
            return delegate.insertAll(batch);
        }

        @Override
        public Optional<ExperimentRecord> find(String id)
        {
            return delegate.find(id);
        }

        @Override
        public List<Transition> history(String id)
        {
            return delegate.history(id);
        }

        @Override
        public ExperimentPage list(ExperimentQuery query)
        {
            return delegate.list(query);
        }

        @Override
        public List<ExperimentRecord> listOldestFirst(Optional<Set<String>> projects, Set<ExperimentState> states, long afterSequence, int limit)
        {
            return delegate.listOldestFirst(projects, states, afterSequence, limit);
        }

        @Override
        public List<FinishedRun> finishedRuns(Instant since, Instant until, Optional<Set<String>> projects, long afterSequence, int limit)
        {
            return delegate.finishedRuns(since, until, projects, afterSequence, limit);
        }

        @Override
        public ExperimentChange transition(String id, Set<ExperimentState> from, ExperimentState to, String reason)
        {
            return delegate.transition(id, from, to, reason);
        }
    }
}
