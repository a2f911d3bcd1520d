package dev.tranche.worker.metrics;

import dev.tranche.client.TlsFailures;
import com.google.protobuf.Timestamp;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.ReportAck;
import dev.tranche.worker.train.EpochResult;
import dev.tranche.worker.train.TrainingEvents;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.util.Objects.requireNonNull;

/**
 * Sends training metrics to the scheduler's MetricsService. Training never waits for it: points go
 * into a bounded buffer (the oldest are dropped when it is full, and the count is reported), and
 * one sender thread ships them in batches, retrying with exponential back-off and jitter while the
 * scheduler is unreachable. Errors that a retry cannot fix (bad credential, unknown experiment, bad
 * point) drop the batch with one warning.
 */
public final class MetricsClient
        implements TrainingEvents, AutoCloseable
{
    private static final Set<Status.Code> RETRIED = Set.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED,
            Status.Code.RESOURCE_EXHAUSTED, Status.Code.ABORTED, Status.Code.INTERNAL, Status.Code.UNKNOWN);

    private final MetricsServiceGrpc.MetricsServiceStub stub;
    private final MetricsClientConfig config;
    private final PrintStream log;
    private final Clock clock;
    private static final Duration EPOCH_FLUSH = Duration.ofSeconds(5);

    private final Thread sender;

    // guarded by this
    private final ArrayDeque<MetricPoint> buffer = new ArrayDeque<>();
    private long dropped;
    // points handed to add(), and points whose fate is sealed (stored, refused or dropped): an epoch waits for the gap to close
    private long enqueued;
    private long settled;
    private boolean flushRequested;
    // the training thread's latest global step, for the epoch's summary points
    private volatile long lastStep;
    private long sentPoints;
    private long failedSends;
    private boolean closing;
    // the sender thread's: whether this outage has been reported
    private boolean warnedUnreachable;

    public MetricsClient(Channel channel, MetricsClientConfig config, PrintStream log, Clock clock)
    {
        this.stub = MetricsServiceGrpc.newStub(requireNonNull(channel, "channel is null"));
        this.config = requireNonNull(config, "config is null");
        this.log = requireNonNull(log, "log is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.sender = new Thread(this::sendLoop, "metrics-sender");
        this.sender.setDaemon(true);
        this.sender.start();
    }

    @Override
    public void step(int epoch, int epochs, int batch, int batches, long step, double loss, double imagesPerSecond, double learningRate, double etaSeconds)
    {
        lastStep = step;
        add("loss", loss, step, epoch);
        add("images_per_second", imagesPerSecond, step, epoch);
        add("learning_rate", learningRate, step, epoch);
    }

    @Override
    public void epoch(EpochResult result)
    {
        // an epoch's points carry the step it ended at: the scheduler keeps one point per (series, step)
        add("train_loss", result.trainLoss(), lastStep, result.epoch());
        if (!Double.isNaN(result.validationAccuracy())) {
            add("validation_loss", result.validationLoss(), lastStep, result.epoch());
            add("validation_accuracy", result.validationAccuracy(), lastStep, result.epoch());
        }
        add("epoch_seconds", result.seconds(), lastStep, result.epoch());
        // The trainer checkpoints the epoch right after this: waiting (a little) for the epoch's points to be
        // stored first means a worker killed after that checkpoint cannot lose them, so the series in the
        // scheduler never misses an epoch. Without a reachable scheduler it waits at most EPOCH_FLUSH.
        flush(EPOCH_FLUSH);
    }

    /**
     * The test numbers, once per run: series of their own ({@code test_accuracy}, {@code test_loss}) at
     * the last step, labelled with the epoch of the model tested (the best on validation).
     */
    @Override
    public void test(int modelEpoch, double loss, double accuracy)
    {
        add("test_loss", loss, lastStep, modelEpoch);
        add("test_accuracy", accuracy, lastStep, modelEpoch);
        flush(EPOCH_FLUSH);
    }

    /** Sends what is buffered now and waits until it is stored (or refused), at most {@code timeout}. */
    public boolean flush(Duration timeout)
    {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            long target = enqueued;
            flushRequested = true;
            notifyAll();
            while (settled < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
                catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    /** Queues one point; never blocks. Non-finite values are not sent (the service refuses them). */
    public void add(String name, double value, long step, int epoch)
    {
        if (!Double.isFinite(value)) {
            return;
        }
        Instant now = clock.instant();
        MetricPoint point = MetricPoint.newBuilder().setName(name).setValue(value).setStep(step).setEpoch(epoch)
                .setAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano())).build();
        synchronized (this) {
            if (buffer.size() >= config.bufferCapacity()) {
                buffer.pollFirst();
                dropped++;
                settled++;
            }
            buffer.addLast(point);
            enqueued++;
            if (buffer.size() >= config.batchSize()) {
                notifyAll();
            }
        }
    }

    public synchronized long droppedPoints()
    {
        return dropped;
    }

    public synchronized long sentPoints()
    {
        return sentPoints;
    }

    public synchronized int buffered()
    {
        return buffer.size();
    }

    public synchronized long failedSends()
    {
        return failedSends;
    }

    /** Sends what is buffered, waiting at most {@code timeout}; what is still unsent then is lost. */
    public void close(Duration timeout)
    {
        synchronized (this) {
            closing = true;
            notifyAll();
        }
        try {
            sender.join(timeout.toMillis());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.interrupt();
        synchronized (this) {
            if (!buffer.isEmpty()) {
                log.println("warning: metrics: " + buffer.size() + " points not delivered before shutdown");
            }
        }
    }

    @Override
    public void close()
    {
        close(Duration.ofSeconds(10));
    }

    private void sendLoop()
    {
        Duration backoff = config.initialBackoff();
        while (true) {
            List<MetricPoint> points;
            long droppedSoFar;
            try {
                synchronized (this) {
                    long waitUntil = System.nanoTime() + config.flushInterval().toNanos();
                    while (!closing && !flushRequested && buffer.size() < config.batchSize()) {
                        long left = waitUntil - System.nanoTime();
                        if (left <= 0) {
                            break;
                        }
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    }
                    if (buffer.isEmpty()) {
                        flushRequested = false;
                        if (closing) {
                            return;
                        }
                        continue;
                    }
                    points = new ArrayList<>(Math.min(buffer.size(), config.batchSize()));
                    while (points.size() < config.batchSize() && !buffer.isEmpty()) {
                        points.add(buffer.pollFirst());
                    }
                    droppedSoFar = dropped;
                }
            }
            catch (InterruptedException e) {
                return;
            }
            MetricBatch batch = MetricBatch.newBuilder().setExperimentId(config.experimentId()).setCredential(config.credential())
                    .setRank(config.rank()).addAllPoints(points).setDroppedPoints(droppedSoFar).build();
            Status status = send(batch);
            if (status.isOk()) {
                synchronized (this) {
                    sentPoints += points.size();
                    settled += points.size();
                    notifyAll();
                }
                backoff = config.initialBackoff();
                warnedUnreachable = false;
                continue;
            }
            synchronized (this) {
                failedSends++;
            }
            if (!RETRIED.contains(status.getCode())) {
                log.println("warning: metrics: the scheduler refused " + points.size() + " points (" + status.getCode() + ": "
                        + status.getDescription() + "); dropping them");
                synchronized (this) {
                    settled += points.size();
                    notifyAll();
                }
                continue;
            }
            if (!warnedUnreachable) {
                // once per outage: the retries themselves are quiet
                warnedUnreachable = true;
                Throwable tls = TlsFailures.innermost(status.getCause()).orElse(null);
                log.println("warning: metrics: cannot deliver to the scheduler (" + status.getCode() + ": " + status.getDescription()
                        + (tls != null ? "; TLS: " + tls.getMessage() + "; check TRANCHE_SCHEDULER_CA / TRANCHE_SCHEDULER_TLS" : "")
                        + "); retrying in the background");
            }
            synchronized (this) {
                // back to the front, in order, as far as the buffer has room: newer points win
                int kept = 0;
                for (int i = points.size() - 1; i >= 0 && buffer.size() < config.bufferCapacity(); i--) {
                    buffer.addFirst(points.get(i));
                    kept++;
                }
                dropped += points.size() - kept;
                settled += points.size() - kept;
                notifyAll();
                if (closing) {
                    // no back-off sleeps on the way out: one more try per batch at most
                    return;
                }
            }
            try {
                long jittered = backoff.toMillis() / 2 + ThreadLocalRandom.current().nextLong(backoff.toMillis() / 2 + 1);
                Thread.sleep(jittered);
            }
            catch (InterruptedException e) {
                return;
            }
            backoff = backoff.multipliedBy(2).compareTo(config.maxBackoff()) > 0 ? config.maxBackoff() : backoff.multipliedBy(2);
        }
    }


    private Status send(MetricBatch batch)
    {
        CompletableFuture<ReportAck> ack = new CompletableFuture<>();
        StreamObserver<MetricBatch> requests = stub.withDeadlineAfter(config.deadline().toMillis(), TimeUnit.MILLISECONDS)
                .report(new StreamObserver<>()
                {
                    @Override
                    public void onNext(ReportAck value)
                    {
                        ack.complete(value);
                    }

                    @Override
                    public void onError(Throwable t)
                    {
                        ack.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted()
                    {
                        ack.completeExceptionally(Status.INTERNAL.withDescription("no acknowledgement").asRuntimeException());
                    }
                });
        try {
            requests.onNext(batch);
            requests.onCompleted();
            ack.get(config.deadline().toMillis() + 1000, TimeUnit.MILLISECONDS);
            return Status.OK;
        }
        catch (ExecutionException e) {
            return Status.fromThrowable(e.getCause());
        }
        catch (TimeoutException e) {
            return Status.DEADLINE_EXCEEDED.withDescription("no answer in time");
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Status.CANCELLED;
        }
        catch (RuntimeException e) {
            return Status.fromThrowable(e);
        }
    }
}
