package dev.tranche.scheduler.experiment;

import dev.tranche.scheduler.errors.OverloadedException;
import dev.tranche.scheduler.errors.ShuttingDownException;
import dev.tranche.scheduler.experiment.ExperimentStore.Inserted;
import dev.tranche.scheduler.experiment.ExperimentStore.NewExperiment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static java.util.Objects.requireNonNull;

/**
 * Group commit for submissions: concurrent submits queue here and a few writer threads store
 * whatever has gathered in one transaction, so a burst costs one WAL flush instead of one each.
 * A caller is answered only after its batch is committed. A batch that fails as a whole is retried
 * row by row, so one bad row (an unknown project) fails only its own submission.
 */
public final class SubmissionWriter
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(SubmissionWriter.class);
    /** How long close waits for the queued submissions to be stored. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(30);
    private static final String SHUTTING_DOWN = "the scheduler is shutting down and takes no new submissions; nothing was stored, submit again in a moment";
    private static final String NOT_STORED = "the scheduler shut down before this submission could be stored; nothing was stored, submit again in a moment";

    private final ExperimentStore repository;
    private final BlockingQueue<Pending> queue;
    private final int maxBatch;
    private final List<Thread> writers = new ArrayList<>();
    /**
     * Submissions queue under the read lock and close sets {@link #closing} under the write lock, so
     * once it is set no submission can still be on its way into the queue: the writers stop only when
     * the queue is empty and nothing accepted is left behind.
     */
    private final ReentrantReadWriteLock intake = new ReentrantReadWriteLock();
    private volatile boolean closing;

    private record Pending(NewExperiment experiment, CompletableFuture<Inserted> result) {}

    public SubmissionWriter(ExperimentStore repository, int writerThreads, int maxBatch, int queueCapacity)
    {
        this.repository = requireNonNull(repository, "repository is null");
        if (writerThreads < 1 || maxBatch < 1 || queueCapacity < maxBatch) {
            throw new IllegalArgumentException("need at least one writer, a batch of at least one, and a queue at least one batch long");
        }
        this.maxBatch = maxBatch;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        for (int i = 0; i < writerThreads; i++) {
            Thread writer = new Thread(this::writeLoop, "tranche-submission-writer-" + i);
            writer.setDaemon(true);
            writers.add(writer);
            writer.start();
        }
    }

    /**
     * Queues the experiment for the next batch. The future completes once its batch is committed (or
     * failed), on the writer's thread: a caller that waits for it holds no thread meanwhile, so a
     * burst does not park a thread per submission.
     *
     * @throws OverloadedException when the queue is full; nothing is stored then
     * @throws ShuttingDownException once {@link #close} has begun; nothing is stored then
     */
    public CompletableFuture<Inserted> write(NewExperiment experiment)
    {
        intake.readLock().lock();
        try {
            if (closing) {
                throw new ShuttingDownException(SHUTTING_DOWN);
            }
            CompletableFuture<Inserted> result = new CompletableFuture<>();
            if (!queue.offer(new Pending(experiment, result))) {
                throw new OverloadedException("too many submissions in flight (" + queue.size() + "); retry shortly");
            }
            return result;
        }
        finally {
            intake.readLock().unlock();
        }
    }

    private void writeLoop()
    {
        List<Pending> batch = new ArrayList<>(maxBatch);
        while (!closing || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                store(batch);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            catch (RuntimeException e) {
                log.error("submission writer failed", e);
                batch.forEach(pending -> pending.result().completeExceptionally(e));
            }
            finally {
                batch.clear();
            }
        }
    }

    private void store(List<Pending> batch)
    {
        if (batch.size() > 1) {
            List<Inserted> results;
            try {
                results = repository.insertAll(batch.stream().map(Pending::experiment).toList());
            }
            catch (RuntimeException e) {
                results = null;
            }
            if (results != null) {
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).result().complete(results.get(i));
                }
                return;
            }
        }
        for (Pending pending : batch) {
            try {
                NewExperiment experiment = pending.experiment();
                pending.result().complete(repository.insert(experiment.id(), experiment.spec(), experiment.requestId(), experiment.reason()));
            }
            catch (RuntimeException e) {
                pending.result().completeExceptionally(e);
            }
        }
    }

    /**
     * Refuses new submissions, stores every one accepted before, then stops the writers. Should the
     * store not finish in {@link #CLOSE_WAIT} (a database that hangs), what is still queued is
     * answered as not stored rather than left waiting; a batch a writer is storing is answered when
     * its transaction ends.
     */
    @Override
    public void close()
    {
        intake.writeLock().lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
        }
        finally {
            intake.writeLock().unlock();
        }
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        boolean interrupted = false;
        for (Thread writer : writers) {
            try {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left > 0) {
                    writer.join(left);
                }
            }
            catch (InterruptedException e) {
                interrupted = true;
                break;
            }
        }
        List<Pending> unstored = new ArrayList<>();
        queue.drainTo(unstored);
        if (!unstored.isEmpty()) {
            log.warn("{} queued submissions were not stored within {} s of shutting down; their callers are told to submit again",
                    unstored.size(), CLOSE_WAIT.toSeconds());
            unstored.forEach(pending -> pending.result().completeExceptionally(new ShuttingDownException(NOT_STORED)));
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
