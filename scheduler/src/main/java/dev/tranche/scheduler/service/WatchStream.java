package dev.tranche.scheduler.service;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;

import static java.util.Objects.requireNonNull;

/**
 * A server stream that respects gRPC flow control: events queue here (bounded) and are sent only
 * while the client keeps up. A client that falls too far behind is told so (RESOURCE_EXHAUSTED)
 * rather than letting the scheduler buffer for it without end.
 */
final class WatchStream<T>
{
    private final ServerCallStreamObserver<T> call;
    private final Executor executor;
    private final int capacity;
    private final Optional<Expiry> validUntil;
    private final Object lock = new Object();
    private final ArrayDeque<T> queue = new ArrayDeque<>();
    private boolean draining;
    private boolean completeWhenDrained;
    private boolean finished;
    private boolean reported;
    private final List<Runnable> finishActions = new ArrayList<>();
    private Status failure;
    // run once the queue is down to roomAt events: what feeds the stream a page at a time
    private Runnable whenRoom;
    private int roomAt;

    WatchStream(ServerCallStreamObserver<T> call, Executor executor, int capacity)
    {
        this(call, executor, capacity, Optional.empty());
    }

    /** @param validUntil when what opened the stream (a token) expires: nothing is sent from then on, the stream ends instead */
    WatchStream(ServerCallStreamObserver<T> call, Executor executor, int capacity, Optional<Expiry> validUntil)
    {
        this.call = requireNonNull(call, "call is null");
        this.executor = requireNonNull(executor, "executor is null");
        this.capacity = capacity;
        this.validUntil = requireNonNull(validUntil, "validUntil is null");
        call.setOnReadyHandler(this::scheduleDrain);
    }

    /** The moment a stream stops being allowed, by this clock, and what its client is told then. */
    record Expiry(Instant at, Clock clock, Status status)
    {
        Expiry
        {
            requireNonNull(at, "at is null");
            requireNonNull(clock, "clock is null");
            requireNonNull(status, "status is null");
        }
    }

    void send(T event)
    {
        synchronized (lock) {
            if (finished || failure != null || completeWhenDrained) {
                return;
            }
            if (validUntil.isPresent() && !validUntil.get().clock().instant().isBefore(validUntil.get().at())) {
                queue.clear();
                failure = validUntil.get().status();
            }
            else if (queue.size() >= capacity) {
                queue.clear();
                failure = fellBehind();
            }
            else {
                queue.add(event);
            }
        }
        scheduleDrain();
    }

    /** What a client that fell more than the queue's capacity behind is told. */
    Status fellBehind()
    {
        return Status.RESOURCE_EXHAUSTED.withDescription("the watcher fell more than " + capacity + " events behind; watch again");
    }

    /**
     * Runs {@code action} on the executor once at most {@code queued} events wait to be sent (soon, if
     * so already), unless the stream has ended by then. One action at a time: a long list is fed so, a
     * page each time the client has taken most of the last, and never fills the queue.
     */
    void whenQueuedAtMost(int queued, Runnable action)
    {
        requireNonNull(action, "action is null");
        synchronized (lock) {
            if (finished || failure != null) {
                return;
            }
            if (queue.size() > queued) {
                whenRoom = action;
                roomAt = queued;
                return;
            }
        }
        executor.execute(action);
    }

    /** Ends the stream once everything queued has been sent. */
    void complete()
    {
        synchronized (lock) {
            completeWhenDrained = true;
        }
        scheduleDrain();
    }

    void fail(Status status)
    {
        synchronized (lock) {
            if (failure == null) {
                queue.clear();
                failure = status;
            }
        }
        scheduleDrain();
    }

    /** The client went away: drop what is queued and send nothing more. */
    void cancelled()
    {
        synchronized (lock) {
            finished = true;
            queue.clear();
        }
        reportFinished();
    }

    /**
     * Runs the action once the stream has ended, however it ended (completed, failed, or the client
     * gone); at once if it has. A stream the server ends gets no cancel callback from gRPC, so what
     * feeds it (a subscription) is closed here rather than only in the cancel handler.
     */
    void onFinish(Runnable action)
    {
        requireNonNull(action, "action is null");
        synchronized (lock) {
            if (!reported) {
                finishActions.add(action);
                return;
            }
        }
        action.run();
    }

    /** Once per stream, whichever way it ended first. */
    private void reportFinished()
    {
        List<Runnable> actions;
        synchronized (lock) {
            if (reported) {
                return;
            }
            reported = true;
            actions = List.copyOf(finishActions);
            finishActions.clear();
            whenRoom = null;
        }
        actions.forEach(Runnable::run);
    }

    private void scheduleDrain()
    {
        synchronized (lock) {
            if (draining || finished) {
                return;
            }
            draining = true;
        }
        executor.execute(this::drain);
    }

    private void drain()
    {
        while (true) {
            T next = null;
            Status error = null;
            boolean done = false;
            Runnable room = null;
            synchronized (lock) {
                if (finished) {
                    draining = false;
                    return;
                }
                if (failure != null) {
                    error = failure;
                    finished = true;
                }
                else if (!queue.isEmpty() && call.isReady()) {
                    next = queue.poll();
                    if (whenRoom != null && queue.size() <= roomAt) {
                        room = whenRoom;
                        whenRoom = null;
                    }
                }
                else if (queue.isEmpty() && completeWhenDrained) {
                    done = true;
                    finished = true;
                }
                if (next == null) {
                    draining = false;
                }
            }
            if (room != null) {
                executor.execute(room);
            }
            try {
                if (error != null) {
                    call.onError(error.asRuntimeException());
                    reportFinished();
                    return;
                }
                if (done) {
                    call.onCompleted();
                    reportFinished();
                    return;
                }
                if (next == null) {
                    return;
                }
                call.onNext(next);
            }
            catch (IllegalStateException | io.grpc.StatusRuntimeException e) {
                // the call was cancelled under us
                cancelled();
                synchronized (lock) {
                    draining = false;
                }
                return;
            }
        }
    }
}
