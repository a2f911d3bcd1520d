package dev.tranche.scheduler.security;

import dev.tranche.scheduler.errors.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * Writes audit events to PostgreSQL on one background thread, in batches, so a flood of refused
 * requests costs the caller no database round trip. If the queue is full (a flood faster than the
 * database), further events are counted and the count is logged, never silently lost.
 */
public final class AuditLog
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
    private static final int BATCH = 500;

    private final AuditStore repository;
    private final BlockingQueue<AuditEntry> queue;
    private final AtomicLong dropped = new AtomicLong();
    // every recorded event is counted once in recorded and, once handled (stored or given up), in handled
    private final AtomicLong recorded = new AtomicLong();
    private final AtomicLong handled = new AtomicLong();
    private final Thread writer;
    private volatile boolean closed;

    public AuditLog(AuditStore repository, int capacity)
    {
        this(repository, new ArrayBlockingQueue<>(capacity));
    }

    /** With the queue given: tests pause a recorder inside it. */
    AuditLog(AuditStore repository, BlockingQueue<AuditEntry> queue)
    {
        this.repository = requireNonNull(repository, "repository is null");
        this.queue = requireNonNull(queue, "queue is null");
        this.writer = new Thread(this::run, "tranche-audit");
        writer.setDaemon(true);
        writer.start();
    }

    public void record(AuditEntry entry)
    {
        // counted before the queue takes it: the writer may store it (and count it handled) at once,
        // and a flush must never see a handled count that includes events its target does not
        recorded.incrementAndGet();
        if (!queue.offer(entry)) {
            handled.incrementAndGet();
            long count = dropped.incrementAndGet();
            if (count == 1 || count % 1000 == 0) {
                log.warn("audit queue full: {} events not written (last: {} {} by {})", count, entry.outcome(), entry.action(), entry.actor());
            }
        }
    }

    /**
     * The entries newest first, at most {@code limit}, with ids below {@code beforeId} (0: from the
     * newest), only refusals with {@code deniedOnly}; everything recorded before the call is in it.
     */
    public List<AuditEntry> recent(int limit, long beforeId, boolean deniedOnly)
    {
        flush();
        return repository.list(limit, beforeId, deniedOnly);
    }

    /** Waits until everything recorded so far is written (tests, the audit command's readers). */
    public void flush()
    {
        long target = recorded.get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (handled.get() < target && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void run()
    {
        List<AuditEntry> batch = new ArrayList<>(BATCH);
        while (!closed || !queue.isEmpty()) {
            try {
                AuditEntry first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, BATCH - 1);
                write(batch);
                handled.addAndGet(batch.size());
                batch.clear();
            }
            catch (InterruptedException e) {
                closed = true;
            }
        }
    }

    /**
     * Writes a batch; if the batch fails, each event on its own, so one event the database refuses
     * costs only itself. The database being down costs the batch after three tries, counted.
     */
    private void write(List<AuditEntry> batch)
    {
        for (int attempt = 1; ; attempt++) {
            try {
                repository.append(batch);
                return;
            }
            catch (RuntimeException e) {
                boolean unavailable = StoreException.unavailable(e).isPresent();
                if (unavailable && !closed) {
                    // the database is down or restarting: hold the batch (the queue fills meanwhile) until it is back
                    attempt = 0;
                }
                else if (attempt == 2 && batch.size() > 1 && !unavailable) {
                    // one event the database refuses costs only itself
                    int lost = 0;
                    for (AuditEntry entry : batch) {
                        try {
                            repository.append(List.of(entry));
                        }
                        catch (RuntimeException one) {
                            lost++;
                            log.error("could not write the audit event {} {} by {}: {}", entry.outcome(), entry.action(), entry.actor(), one.getMessage());
                        }
                    }
                    dropped.addAndGet(lost);
                    return;
                }
                else if (attempt >= 3 || unavailable) {
                    log.error("could not write {} audit events: {}", batch.size(), e.getMessage());
                    dropped.addAndGet(batch.size());
                    return;
                }
                try {
                    Thread.sleep(200L * Math.max(1, attempt));
                }
                catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void close()
    {
        closed = true;
        try {
            writer.join(TimeUnit.SECONDS.toMillis(10));
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
