package dev.tranche.worker.train;

import sun.misc.Signal;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.util.Objects.requireNonNull;

/**
 * SIGTERM (and SIGINT) ask training to stop at the next step boundary after a checkpoint. A plain
 * shutdown hook would not do: Spark's own hook stops the SparkContext at the same time. If training
 * has not stopped within the grace period, the process halts with 143 as the default handler would.
 */
public final class StopSignal
{
    private final AtomicBoolean requested = new AtomicBoolean();

    public boolean requested()
    {
        return requested.get();
    }

    public void request()
    {
        requested.set(true);
    }

    /**
     * Asks training to stop, as a signal does: {@code why} is logged, and if the process is still
     * running {@code grace} later it halts with {@code exitCode}. Only the first request counts.
     */
    public void requestWithin(Duration grace, int exitCode, String why, PrintStream log)
    {
        requireNonNull(grace, "grace is null");
        if (requested.getAndSet(true)) {
            return;
        }
        log.println(why + " (grace " + grace.toSeconds() + " s)");
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(grace.toMillis());
            }
            catch (InterruptedException e) {
                return;
            }
            log.println("grace period over: exiting without a final checkpoint");
            Runtime.getRuntime().halt(exitCode);
        }, "stop-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** Installs the handlers for this process; call once from the command that trains. */
    public static StopSignal install(Duration grace, PrintStream log)
    {
        requireNonNull(grace, "grace is null");
        StopSignal stop = new StopSignal();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> stop.requestWithin(grace, 128 + signal.getNumber(), "SIG" + name + ": checkpointing and stopping", log));
        }
        return stop;
    }
}
