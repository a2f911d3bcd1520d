package dev.tranche.scheduler.scheduling;

import dev.tranche.scheduler.experiment.ExperimentSpec;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * Reads the cluster from the store on a thread of its own, so that a scheduling cycle decides from
 * memory and never waits for the database (on a busy machine a PostgreSQL backend can wait hundreds
 * of ms for a CPU; KAI-Scheduler and kube-scheduler decide from an informer cache for the same
 * reason). Each read is a {@link View}: what changed in the queue since the previous read, the
 * cluster as it stood, and the specs of placed experiments not delivered before. Views are handed
 * over in order and must all be applied: each one's queue delta starts where the previous ended.
 */
final class ClusterViewReader
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(ClusterViewReader.class);
    private static final int SPEC_BATCH = 10_000;
    private static final long FAILURE_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_UNDRAINED_VIEWS = 8;

    private final ClusterRepository cluster;
    private final SchedulerMetrics metrics;
    private final Duration interval;
    private final Duration minimumGap;
    private final Runnable onView;
    private final Object signal = new Object();

    // guarded by this: one read at a time, in order
    private Optional<ClusterRepository.ChangeMark> mark = Optional.empty();
    private final Set<String> specsDelivered = new HashSet<>();
    // read without waiting for a read in progress (the loop asks while the reader may be in the database)
    private final AtomicLong readsStarted = new AtomicLong();
    // guarded by itself, for the same reason
    private final List<View> ready = new ArrayList<>();

    private boolean wakeUp;
    private volatile boolean running;
    private Thread thread;
    private long failingSinceNanos;
    private long lastFailureLogNanos;

    /**
     * One read of the store. {@code generation} numbers reads in the order they started: a write that
     * committed before read {@code g} started is in every view of generation {@code g} or later.
     * {@code startNanos} is when the read began ({@link System#nanoTime}); the view shows the store no
     * older than that.
     */
    record View(ClusterRepository.QueueDelta delta, Map<String, ExperimentSpec> heldSpecs, long generation, long startNanos)
    {
        View
        {
            requireNonNull(delta, "delta is null");
            heldSpecs = Map.copyOf(heldSpecs);
        }

        ClusterRepository.Snapshot snapshot()
        {
            return delta.snapshot();
        }
    }

    /** @param onView called on the reader's thread after each view is ready */
    ClusterViewReader(ClusterRepository cluster, SchedulerMetrics metrics, Duration interval, Duration minimumGap, Runnable onView)
    {
        this.cluster = requireNonNull(cluster, "cluster is null");
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.interval = requireNonNull(interval, "interval is null");
        this.minimumGap = requireNonNull(minimumGap, "minimumGap is null");
        this.onView = requireNonNull(onView, "onView is null");
    }

    synchronized void start()
    {
        if (thread != null) {
            return;
        }
        running = true;
        thread = new Thread(this::loop, "tranche-cluster-view-reader");
        thread.setDaemon(true);
        thread.start();
    }

    /** Something changed in the store: read again soon (at most one read per minimum gap). */
    void wakeUp()
    {
        synchronized (signal) {
            wakeUp = true;
            signal.notifyAll();
        }
    }

    private void loop()
    {
        while (running) {
            try {
                // a loop that has not taken the last views (a long cycle) gets no more until it does:
                // each view holds the whole cluster, and the next read brings every change anyway
                if (undrained() < MAX_UNDRAINED_VIEWS) {
                    readNow();
                }
                onView.run();
                if (failingSinceNanos != 0) {
                    log.info("the cluster view is read again after {} s of failed reads", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - failingSinceNanos));
                    failingSinceNanos = 0;
                }
            }
            catch (RuntimeException e) {
                long now = System.nanoTime();
                if (failingSinceNanos == 0) {
                    failingSinceNanos = now;
                }
                // the database may be down for a while: say so once, then now and then, not every second
                if (lastFailureLogNanos == 0 || now - lastFailureLogNanos > FAILURE_LOG_INTERVAL_NANOS) {
                    log.warn("could not read the cluster for scheduling (retrying every {} ms): {}", interval.toMillis(), e.getMessage());
                    lastFailureLogNanos = now;
                }
            }
            try {
                Thread.sleep(minimumGap.toMillis());
                synchronized (signal) {
                    if (!wakeUp && running) {
                        signal.wait(Math.max(1, interval.toMillis() - minimumGap.toMillis()));
                    }
                    wakeUp = false;
                }
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Reads the store now, on the caller's thread, and queues the view for {@link #drain}. */
    synchronized View readNow()
    {
        long generation = readsStarted.incrementAndGet();
        long start = System.nanoTime();
        ClusterRepository.QueueDelta delta = cluster.snapshotSince(mark);
        if (mark.isPresent() && delta.mark().xmax() < mark.get().xmax()) {
            // the database's transaction ids went back (restored from a backup, or another server
            // behind the same address): rows written since may carry ids the mark counts as seen, so
            // the queue is read whole again (the complete read starts the loop's queue afresh)
            log.warn("the database's transaction ids went back (from {} to {}): was it restored or replaced? Reading the queue whole again",
                    mark.get().xmax(), delta.mark().xmax());
            mark = Optional.empty();
            specsDelivered.clear();
            delta = cluster.snapshotSince(mark);
        }
        Set<String> held = new HashSet<>();
        delta.snapshot().held().forEach(each -> held.add(each.experiment().id()));
        specsDelivered.retainAll(held);
        List<String> missing = held.stream().filter(id -> !specsDelivered.contains(id)).toList();
        Map<String, ExperimentSpec> specs = new HashMap<>();
        for (int from = 0; from < missing.size(); from += SPEC_BATCH) {
            specs.putAll(cluster.specs(missing.subList(from, Math.min(missing.size(), from + SPEC_BATCH))));
        }
        View view = new View(delta, specs, generation, start);
        // only once the whole view is read: a failed read leaves the mark where it was and is repeated
        mark = Optional.of(delta.mark());
        specsDelivered.addAll(specs.keySet());
        synchronized (ready) {
            ready.add(view);
        }
        metrics.recordViewRead(System.nanoTime() - start);
        return view;
    }

    private int undrained()
    {
        synchronized (ready) {
            return ready.size();
        }
    }

    /** The views read since the last call, oldest first. */
    List<View> drain()
    {
        synchronized (ready) {
            List<View> views = List.copyOf(ready);
            ready.clear();
            return views;
        }
    }

    /**
     * The number of reads started so far: a write that commits before this is called is seen by every
     * view of a higher generation.
     */
    long readsStarted()
    {
        return readsStarted.get();
    }

    /** Forgets what was read: the next view is a complete read, and views not yet drained are dropped. */
    synchronized void restart()
    {
        mark = Optional.empty();
        specsDelivered.clear();
        synchronized (ready) {
            ready.clear();
        }
    }

    @Override
    public void close()
    {
        running = false;
        wakeUp();
        Thread current = thread;
        if (current != null) {
            try {
                current.join(TimeUnit.SECONDS.toMillis(10));
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
