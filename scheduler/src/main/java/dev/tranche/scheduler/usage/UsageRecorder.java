package dev.tranche.scheduler.usage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * Samples usage once a minute on a thread of its own (the samples are taken by the database, at the
 * database's minute, so a restart or a second call never adds a minute twice) and hands each sample to
 * {@code onSample} (the Prometheus gauges).
 */
public final class UsageRecorder
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(UsageRecorder.class);

    private final UsageStore store;
    private final Duration interval;
    private final Duration retention;
    private final Consumer<List<UsageStore.ProjectSample>> onSample;
    private ScheduledExecutorService executor;
    private boolean failing;

    public UsageRecorder(UsageStore store, Duration interval, Duration retention, Consumer<List<UsageStore.ProjectSample>> onSample)
    {
        this.store = requireNonNull(store, "store is null");
        this.interval = requireNonNull(interval, "interval is null");
        this.retention = requireNonNull(retention, "retention is null");
        this.onSample = requireNonNull(onSample, "onSample is null");
    }

    public synchronized void start()
    {
        if (executor != null) {
            return;
        }
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "tranche-usage-recorder");
            thread.setDaemon(true);
            return thread;
        });
        executor.scheduleWithFixedDelay(this::sampleQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One sample now, on the caller's thread. */
    public List<UsageStore.ProjectSample> sample()
    {
        List<UsageStore.ProjectSample> sample = store.sample(retention);
        onSample.accept(sample);
        return sample;
    }

    private void sampleQuietly()
    {
        try {
            sample();
            if (failing) {
                log.info("usage samples are recorded again");
                failing = false;
            }
        }
        catch (RuntimeException e) {
            // the database may be down: a missing minute is a gap in a chart, nothing more
            if (!failing) {
                log.warn("could not record usage (the next attempt is in {} s): {}", interval.toSeconds(), e.getMessage());
                failing = true;
            }
        }
    }

    @Override
    public synchronized void close()
    {
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(5, TimeUnit.SECONDS);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
