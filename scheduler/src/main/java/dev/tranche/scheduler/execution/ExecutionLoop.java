package dev.tranche.scheduler.execution;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/** Runs {@link ExecutionController#reconcile} on its own thread, once per interval. */
public final class ExecutionLoop
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(ExecutionLoop.class);

    private final ExecutionController controller;
    private final Duration interval;
    private final Thread thread;
    private volatile boolean running = true;

    public ExecutionLoop(ExecutionController controller, Duration interval)
    {
        this.controller = requireNonNull(controller, "controller is null");
        this.interval = requireNonNull(interval, "interval is null");
        this.thread = new Thread(this::loop, "tranche-execution-loop");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop()
    {
        while (running) {
            try {
                controller.reconcile();
            }
            catch (RuntimeException e) {
                log.error("reconciling workers failed; retrying at the next tick", e);
            }
            try {
                Thread.sleep(interval.toMillis());
            }
            catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close()
    {
        running = false;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
