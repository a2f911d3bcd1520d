package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.TreeSet;

import static java.util.Objects.requireNonNull;

/**
 * The whole backlog, kept between cycles in lines of alike work, and the window of it one cycle
 * considers. A line holds the pending experiments of one project with the same priority, request,
 * replica count and preemptibility, in arrival order. Kueue and kube-scheduler likewise look at queue
 * heads rather than every queued object; here the window keeps the order a cycle over the whole
 * backlog would follow (see {@link #window}): alike work behind a refused head would be refused for
 * the same reason, so it need not be looked at, and work that might be placed is only ever delayed to
 * the next cycle, never overtaken within its project. A project's window grows with what it placed,
 * so a freed cluster still fills in a few cycles.
 *
 * <p>This keeps a cycle's cost proportional to the lines and to what it places, not to the backlog:
 * the adapters that feed the core at scale (the server's scheduling loop, the scale benchmark) add
 * and remove experiments as they arrive and leave, and pass {@link Window#considered()} as the
 * snapshot's pending work and {@link Window#beyond()} as the rest of the backlog's shape. Within a
 * project the window follows priority and then arrival; orderings that also rank by attained service
 * see that rank only among the considered experiments. Not thread-safe; pure (no clock: the caller
 * passes its own notion of now).
 */
public final class PendingQueue
{
    /** What makes experiments alike: one line per key. */
    public record LineKey(String project, int priority, boolean preemptible, int replicas, ResourceRequest request)
    {
        public LineKey
        {
            requireNonNull(project, "project is null");
            requireNonNull(request, "request is null");
        }

        static LineKey of(PendingExperiment experiment)
        {
            return new LineKey(experiment.project(), experiment.priority(), experiment.preemptible(), experiment.replicas(), experiment.request());
        }
    }

    /** An experiment in a line: as submitted (its age is recomputed per window) and when it was queued. */
    private static final class Entry
    {
        final PendingExperiment experiment;
        final long queuedAt;
        final Line line;
        /** The window that last took it; one map lookup tells line, window and entry on removal. */
        long window = -1;

        Entry(PendingExperiment experiment, long queuedAt, Line line)
        {
            this.experiment = experiment;
            this.queuedAt = queuedAt;
            this.line = line;
        }
    }

    /** Within a project: higher priority first, then arrival. */
    private static final Comparator<Entry> PROJECT_ORDER = Comparator.comparingInt((Entry entry) -> -entry.experiment.priority())
            .thenComparingLong(entry -> entry.experiment.arrivalSequence())
            .thenComparing(entry -> entry.experiment.id());

    private static final Comparator<Entry> ARRIVAL = Comparator.comparingLong((Entry entry) -> entry.experiment.arrivalSequence())
            .thenComparing(entry -> entry.experiment.id());

    private static final class Line
    {
        final LineKey key;
        final TreeSet<Entry> entries = new TreeSet<>(ARRIVAL);
        /** How many the last window took, and how many of those have left the queue since. */
        int lastWindow;
        int leftWindow;
        /** Whether the last window left no experiment (all refused): the rest waits with it. */
        boolean blocked;
        // the walk of one window
        int taken;
        Iterator<Entry> cursor;
        Entry head;

        Line(LineKey key)
        {
            this.key = key;
        }
    }

    private final int baseWindow;
    private final int maxWindow;
    private final Map<LineKey, Line> lines = new LinkedHashMap<>();
    private final Map<String, Entry> byId = new HashMap<>();
    /** Which window is the last one taken. */
    private long windows;
    private final Map<String, Integer> sizeByProject = new TreeMap<>();
    private final Map<String, Budget> budgets = new HashMap<>();

    /** How many of a project's last window have left the queue since (placed, mostly). */
    private static final class Budget
    {
        int left;
    }

    /**
     * @param baseWindow how many experiments of a project a cycle considers at least
     * @param maxWindow the most experiments of one project a cycle considers, blocked lines aside
     */
    public PendingQueue(int baseWindow, int maxWindow)
    {
        if (baseWindow < 1 || maxWindow < baseWindow) {
            throw new IllegalArgumentException("windows must satisfy 1 <= base <= max, got base " + baseWindow + " and max " + maxWindow);
        }
        this.baseWindow = baseWindow;
        this.maxWindow = maxWindow;
    }

    /** Adds an experiment, or replaces the one with its id (whose line may change). Its age is ignored: see {@link #window}. */
    public void put(PendingExperiment experiment, long queuedAt)
    {
        requireNonNull(experiment, "experiment is null");
        remove(experiment.id());
        LineKey key = LineKey.of(experiment);
        Line line = lines.computeIfAbsent(key, ignored -> new Line(key));
        Entry entry = new Entry(experiment, queuedAt, line);
        line.entries.add(entry);
        byId.put(experiment.id(), entry);
        sizeByProject.merge(experiment.project(), 1, Integer::sum);
    }

    /** Removes an experiment (placed, cancelled); false when it was not queued. */
    public boolean remove(String id)
    {
        Entry entry = byId.remove(id);
        if (entry == null) {
            return false;
        }
        Line line = entry.line;
        line.entries.remove(entry);
        if (entry.window == windows) {
            line.leftWindow++;
            budgets.computeIfAbsent(entry.experiment.project(), ignored -> new Budget()).left++;
        }
        if (line.entries.isEmpty()) {
            lines.remove(line.key);
        }
        sizeByProject.computeIfPresent(entry.experiment.project(), (project, size) -> size == 1 ? null : size - 1);
        return true;
    }

    public boolean contains(String id)
    {
        return byId.containsKey(id);
    }

    public int size()
    {
        return byId.size();
    }

    public int lineCount()
    {
        return lines.size();
    }

    /** Queued experiments per project, by project name. */
    public Map<String, Integer> sizeByProject()
    {
        return Map.copyOf(sizeByProject);
    }

    /**
     * What one cycle considers, with each experiment's age at {@code now} (now minus the time it was
     * queued, never negative), and the shape of everything behind it. Per project the window is a
     * prefix of the project's order (priority, then arrival), so no experiment is considered while an
     * earlier one of its project that might be placed is not. A line whose whole window was refused in
     * the previous cycle is blocked: its head is considered again (in case room appeared) and the rest
     * would be refused for the same reason (they ask for the same, in the same project, so a refused
     * head means they are refused too), so the prefix passes over them; once the head is placed, the
     * line is open again at the next cycle, with the budget below. Other experiments count against the project's budget, and the prefix
     * ends where the budget does: twice what the project placed in the previous cycle, at least the base
     * window and at most the maximum.
     */
    public Window window(long now)
    {
        List<PendingExperiment> considered = new ArrayList<>();
        Map<ResourceRequest, Double> beyondReplicas = new LinkedHashMap<>();
        List<Behind> behind = new ArrayList<>();
        windows++;
        Map<String, List<Line>> linesByProject = new LinkedHashMap<>();
        for (Line line : lines.values()) {
            line.blocked = line.lastWindow > 0 && line.leftWindow == 0;
            line.taken = 0;
            linesByProject.computeIfAbsent(line.key.project(), ignored -> new ArrayList<>()).add(line);
        }
        budgets.keySet().retainAll(linesByProject.keySet());
        for (Map.Entry<String, List<Line>> project : linesByProject.entrySet()) {
            Budget budget = budgets.computeIfAbsent(project.getKey(), ignored -> new Budget());
            int limit = (int) Math.min(maxWindow, Math.max(baseWindow, 2L * budget.left));
            budget.left = 0;
            int open = 0;
            PriorityQueue<Line> heads = new PriorityQueue<>(Comparator.comparing((Line line) -> line.head, PROJECT_ORDER));
            for (Line line : project.getValue()) {
                line.cursor = line.entries.iterator();
                line.head = line.cursor.next();
                heads.add(line);
            }
            while (!heads.isEmpty()) {
                Line line = heads.poll();
                if (line.blocked && line.taken >= 1) {
                    continue;   // the rest of a refused line waits with its head
                }
                if (!line.blocked && open >= limit) {
                    break;      // the budget is spent: what comes after waits for the next cycle
                }
                Entry entry = line.head;
                PendingExperiment experiment = entry.experiment;
                long age = Math.max(0, now - entry.queuedAt);
                considered.add(age == experiment.age() ? experiment : new PendingExperiment(experiment.id(), experiment.project(), experiment.priority(),
                        experiment.preemptible(), experiment.replicas(), experiment.request(), experiment.arrivalSequence(), age));
                entry.window = windows;
                line.taken++;
                open += line.blocked ? 0 : 1;
                if (line.cursor.hasNext()) {
                    line.head = line.cursor.next();
                    heads.add(line);
                }
            }
            for (Line line : project.getValue()) {
                line.cursor = null;
                line.head = null;
            }
        }
        for (Line line : lines.values()) {
            line.lastWindow = line.taken;
            line.leftWindow = 0;
            int rest = line.entries.size() - line.taken;
            if (rest > 0) {
                beyondReplicas.merge(line.key.request(), (double) rest * line.key.replicas(), Double::sum);
                behind.add(new Behind(line.key, rest));
            }
        }
        List<WorkloadShape> beyond = new ArrayList<>();
        beyondReplicas.forEach((request, replicas) -> beyond.add(new WorkloadShape(request, replicas)));
        return new Window(considered, beyond, behind);
    }

    /** How many experiments of one line a window left out. */
    public record Behind(LineKey line, int count)
    {
        public Behind
        {
            requireNonNull(line, "line is null");
        }
    }

    /**
     * @param considered the experiments a cycle should be given as pending
     * @param beyond the requests of the rest of the backlog, in replicas: what fragmentation-aware
     *        policies should expect beside the considered work
     * @param behind per line, what the window left out
     */
    public record Window(List<PendingExperiment> considered, List<WorkloadShape> beyond, List<Behind> behind)
    {
        public Window
        {
            considered = List.copyOf(considered);
            beyond = List.copyOf(beyond);
            behind = List.copyOf(behind);
        }

        public int behindCount()
        {
            return behind.stream().mapToInt(Behind::count).sum();
        }
    }
}
