package dev.tranche.scheduler.scheduling;

import dev.tranche.scheduler.core.Decisions;
import dev.tranche.scheduler.core.PendingQueue;
import dev.tranche.scheduler.core.Placement;
import dev.tranche.scheduler.core.Preemption;
import dev.tranche.scheduler.core.SchedulingCycle;
import dev.tranche.scheduler.core.Unplaced;
import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.model.ServiceHistory;
import dev.tranche.scheduler.experiment.ExperimentChange;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentSpec;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.experiment.Waiting;
import dev.tranche.scheduler.inventory.NodeUsage;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.PlacementWriter.Eviction;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.telemetry.SchedulerMetrics.CyclePhase;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import dev.tranche.spec.Numbers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The adapter around the pure scheduling core: runs one {@link SchedulingCycle} over the cluster as
 * the {@link ClusterViewReader} last read it, and stores its decisions (each placement with its
 * evictions in one transaction), then tells watchers. Runs on one thread, whenever a new view of the
 * store is ready (the reader reads on every change to the queue, and at least once per interval).
 * The queue is read whole once and then only what changed, kept in a {@link PendingQueue}; each cycle
 * considers the window of it that could go first. What the loop stored itself but the newest view
 * may not show yet is "assumed" ({@link Assumption}), so a cycle never counts capacity twice.
 */
public final class SchedulingLoop
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(SchedulingLoop.class);

    private final PlacementWriter writer;
    private final ExperimentEventBus events;
    private final SchedulingCycle cycle;
    private final SchedulerMetrics metrics;
    private final Duration interval;
    private final Duration minimumGap;
    private final ClusterViewReader reader;
    private final Object signal = new Object();
    private final ExperimentEventBus.Subscription queueChanges;
    // Every PENDING experiment with the waiting reason last stored, so a cycle writes only those that
    // changed (the loop is their only writer); the same ids are in the queue.
    private final Map<String, String> storedReasons = new HashMap<>();
    /** GPU-seconds each pending experiment had in earlier attempts, where it had any (the ordering ranks by it). */
    private final Map<String, Long> pendingAttained = new HashMap<>();
    // specs of placed experiments (pending ones are translated once, when they join the queue)
    private final Map<String, ExperimentSpec> specs = new HashMap<>();
    // what this loop stored that the newest view may not show yet, by experiment
    private final Map<String, Assumption> assumed = new HashMap<>();
    private final int lineWindow;
    private PendingQueue queue;
    // the newest view applied; null before the first (or after a failed apply, until a complete read)
    private ClusterViewReader.View latest;
    private boolean awaitingComplete;
    // the same allocation objects from cycle to cycle: the core recognises them and skips their set-up
    private final Map<String, RunningAllocation> runningCache = new HashMap<>();
    /** The most experiments of one line a cycle considers (see {@link PendingQueue}). */
    private static final int MAX_LINE_WINDOW = 1024;
    /** The placement-failure label of experiments that waited behind their line's window. */
    static final String BEHIND_IN_LINE = "BEHIND_IN_LINE";
    private boolean wakeUp;
    private volatile boolean running;
    private Thread thread;

    /** What one cycle did. */
    public record CycleReport(int placed, int preempted, int waiting, int failed, long nanos) {}

    /**
     * A placement or eviction this loop stored, held over the views whose reads started before it
     * committed: a view of a generation above {@code visibleFrom} shows it, an older one may or may not.
     * Until then a placed experiment runs where it was put ({@code allocation}) and is not offered again,
     * and an evicted one ({@code allocation} null) holds nothing. The views' rows are applied as they
     * are (an older view's row of the placed experiment may still say PENDING; the newer one that
     * shows the placement takes it out of the queue again).
     */
    private record Assumption(RunningAllocation allocation, long visibleFrom)
    {
        boolean placed()
        {
            return allocation != null;
        }
    }

    public SchedulingLoop(ClusterRepository cluster, PlacementWriter writer, ExperimentEventBus events, SchedulingCycle cycle,
            SchedulerMetrics metrics, Duration interval, Duration minimumGap, int lineWindow)
    {
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.minimumGap = requireNonNull(minimumGap, "minimumGap is null");
        this.writer = requireNonNull(writer, "writer is null");
        this.events = requireNonNull(events, "events is null");
        this.cycle = requireNonNull(cycle, "cycle is null");
        this.interval = requireNonNull(interval, "interval is null");
        this.lineWindow = lineWindow;
        this.queue = new PendingQueue(lineWindow, MAX_LINE_WINDOW);
        // the reader reads at twice the loop's pace, so a cycle finds a view younger than its own gap
        this.reader = new ClusterViewReader(requireNonNull(cluster, "cluster is null"), metrics, interval, minimumGap.dividedBy(2), this::wakeUp);
        // new work, or capacity given back: worth reading now rather than at the next tick
        this.queueChanges = events.subscribe(change -> !change.experiment().state().holdsGpus(), change -> reader.wakeUp());
    }

    public synchronized void start()
    {
        if (thread != null) {
            return;
        }
        running = true;
        reader.start();
        thread = new Thread(this::loop, "tranche-scheduling-loop");
        thread.setDaemon(true);
        thread.start();
    }

    /** A new view is ready. */
    private void wakeUp()
    {
        synchronized (signal) {
            wakeUp = true;
            signal.notifyAll();
        }
    }

    private void loop()
    {
        long lastCycleNanos = 0;
        while (running) {
            List<ClusterViewReader.View> views = reader.drain();
            if (!views.isEmpty()) {
                try {
                    CycleReport report = cycle(views);
                    lastCycleNanos = report.nanos();
                    if (report.placed() + report.preempted() + report.failed() > 0) {
                        log.info("scheduling cycle: {} placed, {} preempted, {} waiting, {} failed to store, {} ms",
                                report.placed(), report.preempted(), report.waiting(), report.failed(), TimeUnit.NANOSECONDS.toMillis(report.nanos()));
                    }
                }
                catch (RuntimeException e) {
                    log.error("scheduling cycle failed; retrying with the next view", e);
                }
            }
            try {
                // a burst of submissions brings many views: one cycle per gap serves them all, and the
                // gap grows with the cycle so that scheduling never takes more than a third of a core
                Thread.sleep(Math.max(minimumGap.toMillis(), TimeUnit.NANOSECONDS.toMillis(2 * lastCycleNanos)));
                synchronized (signal) {
                    if (!wakeUp && running) {
                        signal.wait(interval.toMillis());
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

    /** The reader, for a test that reads views itself instead of starting the loop. */
    ClusterViewReader reader()
    {
        return reader;
    }

    /**
     * One cycle over the views read since the last one (oldest first, all of them), on the caller's
     * thread (the loop's, or a test's). Without any view yet there is nothing to decide from.
     */
    CycleReport cycle(List<ClusterViewReader.View> views)
    {
        long start = System.nanoTime();
        try {
            views.forEach(this::applyView);
        }
        catch (RuntimeException e) {
            // the queue may be half brought up to date: start it again from a complete read
            reader.restart();
            latest = null;
            awaitingComplete = true;
            throw e;
        }
        ClusterViewReader.View view = latest;
        if (view == null) {
            return new CycleReport(0, 0, queue.size(), 0, 0);
        }
        metrics.recordViewAge(start - view.startNanos());
        ClusterRepository.Snapshot stored = view.snapshot();
        assumed.values().removeIf(assumption -> view.generation() > assumption.visibleFrom());
        long loaded = System.nanoTime();

        List<RunningAllocation> running = new ArrayList<>();
        long assumedMilli = 0;
        Map<String, Long> attained = new HashMap<>(pendingAttained);
        for (ClusterRepository.Held held : stored.held()) {
            ClusterRepository.Queued queued = held.experiment();
            if (assumed.containsKey(queued.id())) {
                // evicted, or placed (and added below): not as the view shows it
                assumedMilli -= held.replicas().stream().mapToLong(ReplicaPlacement::totalGpuMilli).sum();
                continue;
            }
            ExperimentSpec spec = specs.get(queued.id());
            if (spec == null) {
                continue;
            }
            if (held.attainedGpuSeconds() > 0) {
                attained.put(queued.id(), held.attainedGpuSeconds());
            }
            RunningAllocation previous = runningCache.get(queued.id());
            if (previous != null && previous.startSequence() == held.placedSequence() && previous.replicas().equals(held.replicas())) {
                running.add(previous);
            }
            else {
                RunningAllocation allocation = new RunningAllocation(queued.id(), queued.project(), spec.priority().value(), spec.preemptible(),
                        held.placedSequence(), held.replicas());
                runningCache.put(queued.id(), allocation);
                running.add(allocation);
            }
        }
        for (Assumption assumption : assumed.values()) {
            if (assumption.placed()) {
                running.add(assumption.allocation());
                assumedMilli += assumption.allocation().replicas().stream().mapToLong(ReplicaPlacement::totalGpuMilli).sum();
            }
        }
        runningCache.keySet().retainAll(stored.held().stream().map(held -> held.experiment().id()).collect(java.util.stream.Collectors.toSet()));
        List<Node> nodes = schedulingView(stored.nodes(), running);
        PendingQueue.Window window = queue.window(stored.nowEpochSecond());
        List<PendingExperiment> considered = window.considered();
        if (assumed.values().stream().anyMatch(Assumption::placed)) {
            considered = considered.stream().filter(pending -> !isAssumedPlaced(pending.id())).toList();
        }
        Map<String, PendingExperiment> offered = new HashMap<>();
        considered.forEach(pending -> offered.put(pending.id(), pending));
        Decisions decisions = cycle.run(new ClusterSnapshot(nodes, stored.quotas(), stored.departments(), running, considered, List.of(),
                ServiceHistory.attained(attained), window.beyond()));
        long decided = System.nanoTime();

        Map<String, Preemption> preemptions = new LinkedHashMap<>();
        decisions.preemptions().forEach(preemption -> preemptions.put(preemption.victimId(), preemption));
        Set<String> evicted = new HashSet<>();
        int placed = 0;
        int failed = 0;
        for (Placement placement : decisions.placements()) {
            List<Eviction> evictions = new ArrayList<>();
            for (String victim : placement.afterEvicting()) {
                Preemption preemption = preemptions.get(victim);
                evictions.add(new Eviction(victim, preemption != null ? preemption.reason() : "preempted to make room for " + placement.experimentId()));
            }
            try {
                publish(writer.place(placement.experimentId(), placement.replicas(), describe(placement), evictions));
                long visibleFrom = reader.readsStarted();
                PendingExperiment pending = offered.get(placement.experimentId());
                // stored after every read started so far: until a later read shows it, it runs here as far
                // as this loop knows (the latest start of all: nothing stored is newer)
                assumed.put(placement.experimentId(), new Assumption(new RunningAllocation(pending.id(), pending.project(), pending.priority(),
                        pending.preemptible(), Long.MAX_VALUE, placement.replicas()), visibleFrom));
                placement.afterEvicting().forEach(victim -> assumed.put(victim, new Assumption(null, visibleFrom)));
                evicted.addAll(placement.afterEvicting());
                placed++;
                forget(placement.experimentId());
            }
            catch (RuntimeException e) {
                failed++;
                log.warn("could not store the placement of {}: {}", placement.experimentId(), e.getMessage());
            }
        }
        for (Preemption preemption : preemptions.values()) {
            if (evicted.contains(preemption.victimId()) || decisions.placementOf(preemption.forExperimentId()).isPresent()) {
                continue;   // done with its placement, or that placement failed and the victim keeps running
            }
            try {
                publish(writer.evict(List.of(new Eviction(preemption.victimId(), preemption.reason()))));
                assumed.put(preemption.victimId(), new Assumption(null, reader.readsStarted()));
                evicted.add(preemption.victimId());
            }
            catch (RuntimeException e) {
                failed++;
                log.warn("could not preempt {}: {}", preemption.victimId(), e.getMessage());
            }
        }
        Map<String, Waiting> changedReasons = new HashMap<>();
        Map<String, Long> failuresByReason = new TreeMap<>();
        for (Unplaced unplaced : decisions.unplaced()) {
            if (!storedReasons.containsKey(unplaced.experimentId())) {
                continue;
            }
            failuresByReason.merge(unplaced.reason().name(), 1L, Long::sum);
            // the sentence names the counts and limits behind it: the same sentence, the same reason
            String reason = PlacementWriter.WAITING_PREFIX + unplaced.message();
            if (!reason.equals(storedReasons.get(unplaced.experimentId()))) {
                changedReasons.put(unplaced.experimentId(), WaitingReasons.of(unplaced));
            }
        }
        // what stands behind its line's window keeps the reason it has (most often the one given at
        // submission, shown as QUEUED): writing a reason for each of them would cost a row write per arrival
        try {
            writer.explainWaiting(changedReasons);
            changedReasons.forEach((id, waiting) -> storedReasons.put(id, PlacementWriter.WAITING_PREFIX + waiting.message()));
        }
        catch (RuntimeException e) {
            // a reason is an explanation, not a decision: the next cycle writes it again
            log.warn("could not store the waiting reasons of {} experiments: {}", changedReasons.size(), e.getMessage());
        }
        long written = System.nanoTime();
        long nanos = written - start;
        int waiting = queue.size();
        recordMetrics(nanos, stored, decisions, failuresByReason, window.behindCount(), assumedMilli);
        metrics.recordCyclePhase(CyclePhase.QUEUE, loaded - start);
        metrics.recordCyclePhase(CyclePhase.DECIDE, decided - loaded);
        metrics.recordCyclePhase(CyclePhase.STORE, written - decided);
        if (nanos > TimeUnit.SECONDS.toNanos(1)) {
            log.info("slow scheduling cycle: {} ms for {} pending ({} considered) and {} placed experiments; view {} ms old, "
                            + "queue {} ms ({} views), decide {} ms, store {} ms ({} reasons)", TimeUnit.NANOSECONDS.toMillis(nanos), waiting + placed,
                    considered.size(), running.size(), TimeUnit.NANOSECONDS.toMillis(start - view.startNanos()), TimeUnit.NANOSECONDS.toMillis(loaded - start),
                    views.size(), TimeUnit.NANOSECONDS.toMillis(decided - loaded), TimeUnit.NANOSECONDS.toMillis(written - decided), changedReasons.size());
        }
        return new CycleReport(placed, evicted.size(), waiting, failed, nanos);
    }

    private boolean isAssumedPlaced(String id)
    {
        Assumption assumption = assumed.get(id);
        return assumption != null && assumption.placed();
    }

    /**
     * Brings the queue up to date with what one view says changed: new PENDING experiments join their
     * line, others leave; a complete read starts the queue afresh. Specs of PENDING experiments come with
     * the read and are translated once, when their experiment joins the queue.
     */
    private void applyView(ClusterViewReader.View view)
    {
        ClusterRepository.QueueDelta delta = view.delta();
        if (delta.complete()) {
            queue = new PendingQueue(lineWindow, MAX_LINE_WINDOW);
            storedReasons.clear();
            pendingAttained.clear();
            specs.clear();
            awaitingComplete = false;
        }
        else if (awaitingComplete) {
            return;     // read before the restart: the complete read brings it all again
        }
        List<ClusterRepository.Queued> arrivals = new ArrayList<>();
        for (ClusterRepository.Queued queued : delta.snapshot().pending()) {
            if (queued.state() != ExperimentState.PENDING) {
                forget(queued.id());
                continue;
            }
            String before = storedReasons.get(queued.id());
            if (before == null) {
                arrivals.add(queued);
            }
            // keep the instance already held when the text is the same: the next comparison is then by reference
            storedReasons.put(queued.id(), queued.reason().equals(before) ? before : queued.reason());
            // most pending experiments never ran: only the ones that did (preempted, requeued) are kept
            if (queued.attainedGpuSeconds() > 0) {
                pendingAttained.put(queued.id(), queued.attainedGpuSeconds());
            }
            else {
                pendingAttained.remove(queued.id());
            }
        }
        for (ClusterRepository.Queued queued : arrivals) {
            ExperimentSpec spec = delta.specs().get(queued.id());
            if (spec == null) {
                throw new IllegalStateException("the store returned PENDING experiment " + queued.id() + " without its spec");
            }
            queue.put(new PendingExperiment(queued.id(), queued.project(), spec.priority().value(), spec.preemptible(), spec.replicas(),
                    spec.resources(), queued.sequence(), 0), queued.createdAt().getEpochSecond());
        }
        specs.putAll(view.heldSpecs());
        Set<String> held = new HashSet<>();
        delta.snapshot().held().forEach(each -> held.add(each.experiment().id()));
        specs.keySet().retainAll(held);
        latest = view;
    }

    /**
     * The nodes as a cycle sees them. One whose placements hold more CPU or memory than it reports
     * (it shrank: {@link ClusterRepository#registerNodes}) is given at least what they hold, so its
     * running work loads as it runs; the snapshot already shows it not schedulable (so nothing new goes
     * there until the work fits: {@link ClusterRepository}). A placement can only over-commit a node by the node shrinking, which the view shows, so
     * only such nodes are looked at.
     */
    static List<Node> schedulingView(List<NodeUsage> stored, List<RunningAllocation> running)
    {
        Map<String, long[]> over = new HashMap<>();
        for (NodeUsage usage : stored) {
            if (usage.usedCpuMilli() > usage.node().cpuMilli() || usage.usedMemoryMib() > usage.node().memoryMib()) {
                over.put(usage.node().name(), new long[2]);
            }
        }
        if (over.isEmpty()) {
            return stored.stream().map(NodeUsage::node).toList();
        }
        for (RunningAllocation allocation : running) {
            for (ReplicaPlacement replica : allocation.replicas()) {
                long[] held = over.get(replica.node());
                if (held != null) {
                    held[0] += replica.cpuMilli();
                    held[1] += replica.memoryMib();
                }
            }
        }
        List<Node> nodes = new ArrayList<>(stored.size());
        for (NodeUsage usage : stored) {
            Node node = usage.node();
            long[] held = over.get(node.name());
            if (held != null) {
                node = new Node(node.name(), Math.max(node.cpuMilli(), Math.max(usage.usedCpuMilli(), held[0])),
                        Math.max(node.memoryMib(), Math.max(usage.usedMemoryMib(), held[1])), node.gpus(), node.schedulable());
            }
            nodes.add(node);
        }
        return nodes;
    }

    private void forget(String id)
    {
        queue.remove(id);
        storedReasons.remove(id);
        pendingAttained.remove(id);
    }

    /** {@code assumedMilli}: what this loop's own stored decisions add to the view's allocations. */
    private void recordMetrics(long nanos, ClusterRepository.Snapshot stored, Decisions decisions, Map<String, Long> failuresByReason, int behind,
            long assumedMilli)
    {
        Map<String, Long> queueLength = new HashMap<>();
        queue.sizeByProject().forEach((project, size) -> queueLength.put(project, (long) size));
        long allocated = 0;
        long idle = 0;
        for (NodeUsage node : stored.nodes()) {
            long used = node.usedMilliByGpu().values().stream().mapToLong(Integer::longValue).sum();
            allocated += used;
            if (node.node().schedulable()) {
                idle += node.node().gpus().size() * 1000L - used;
            }
        }
        allocated += assumedMilli;
        idle -= assumedMilli;
        for (Placement placement : decisions.placements()) {
            long milli = placement.replicas().stream().mapToLong(ReplicaPlacement::totalGpuMilli).sum();
            allocated += milli;
            idle -= milli;
        }
        metrics.recordCycle(nanos, queueLength, allocated, Math.max(0, idle));
        failuresByReason.forEach(metrics::placementFailed);
        if (behind > 0) {
            metrics.placementFailed(BEHIND_IN_LINE, behind);
        }
    }

    private void publish(List<ExperimentChange> changes)
    {
        changes.forEach(events::publish);
    }

    /** "placed on node-1 GPU 0 (0.5 GPU)", "placed 2 replicas: node-1 GPU 0 (0.5 GPU); node-2 GPUs 0,1 (2 GPUs)". */
    static String describe(Placement placement)
    {
        List<String> replicas = new ArrayList<>();
        for (ReplicaPlacement replica : placement.replicas()) {
            replicas.add(describe(replica));
        }
        String where = replicas.size() == 1 ? "placed on " + replicas.get(0) : "placed " + replicas.size() + " replicas: " + String.join("; ", replicas);
        return placement.afterEvicting().isEmpty() ? where : where + ", after preempting " + String.join(", ", placement.afterEvicting());
    }

    private static String describe(ReplicaPlacement replica)
    {
        Map<Integer, Integer> gpus = new TreeMap<>(replica.gpuMilli());
        if (gpus.isEmpty()) {
            return replica.node() + " (no GPU)";
        }
        long milli = gpus.values().stream().mapToLong(Integer::longValue).sum();
        String amount = Numbers.plain(milli / 1000.0) + (milli == 1000 || milli < 1000 ? " GPU" : " GPUs");
        String indexes = String.join(",", gpus.keySet().stream().map(String::valueOf).toList());
        return replica.node() + (gpus.size() == 1 ? " GPU " : " GPUs ") + indexes + " (" + amount + ")";
    }

    @Override
    public void close()
    {
        queueChanges.close();
        reader.close();
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
