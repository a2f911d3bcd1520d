package dev.tranche.scheduler.experiment;

import dev.tranche.scheduler.errors.OverloadedException;
import dev.tranche.scheduler.experiment.ExperimentStore.Inserted;
import dev.tranche.scheduler.experiment.ExperimentStore.NewExperiment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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

    private final ExperimentStore repository;
    private final BlockingQueue<Pending> queue;
    private final int maxBatch;
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean running = true;

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
     * @throws OverloadedException when the queue is full or the writer is stopping; nothing is stored then
     */
    public CompletableFuture<Inserted> write(NewExperiment experiment)
    {
        if (!running) {
            throw new OverloadedException("the scheduler is shutting down");
        }
        CompletableFuture<Inserted> result = new CompletableFuture<>();
        if (!queue.offer(new Pending(experiment, result))) {
            throw new OverloadedException("too many submissions in flight (" + queue.size() + "); retry shortly");
        }
        return result;
    }

    private void writeLoop()
    {
        List<Pending> batch = new ArrayList<>(maxBatch);
        while (running || !queue.isEmpty()) {
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

    /** Stores what is queued, then stops the writers. */
    @Override
    public void close()
    {
        running = false;
        for (Thread writer : writers) {
            try {
                writer.join(TimeUnit.SECONDS.toMillis(10));
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
