package dev.tranche.scheduler.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;

import static java.util.Objects.requireNonNull;

/**
 * What a start has set going, stopped in the reverse order: the last part started (which may use
 * everything before it) stops first, the database and the home lock last. A start that fails half
 * way stops exactly what it had started. A part that fails to stop is logged; the others still stop.
 */
final class Stops
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(Stops.class);

    private record Part(String name, AutoCloseable stop) {}

    private final Deque<Part> parts = new ArrayDeque<>();
    private boolean closed;

    /** Registers {@code part} under {@code name} and returns it. */
    synchronized <T extends AutoCloseable> T add(String name, T part)
    {
        return add(name, part, part);
    }

    /** Registers how to stop {@code part} and returns the part. */
    synchronized <T> T add(String name, T part, AutoCloseable stop)
    {
        requireNonNull(name, "name is null");
        requireNonNull(part, "part is null");
        requireNonNull(stop, "stop is null");
        if (closed) {
            throw new IllegalStateException("already stopped; cannot start " + name);
        }
        parts.push(new Part(name, stop));
        return part;
    }

    /** Stops every part, the last added first; a second call does nothing. */
    @Override
    public synchronized void close()
    {
        closed = true;
        while (!parts.isEmpty()) {
            Part part = parts.pop();
            try {
                part.stop().close();
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                log.warn("interrupted while stopping the {}; stopping the rest", part.name());
            }
            catch (Exception e) {
                log.warn("could not stop the {} cleanly: {}", part.name(), e.toString());
            }
        }
    }
}
