package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Places pending gangs on free resources, in two rounds. First in-quota work (the project stays
 * within its deserved GPUs), the most starved project first: this is the guaranteed share. Then
 * over-quota work shares what is still idle in two levels: the department (or lone project) with the
 * lowest dominant share first, and within it the project with the lowest weighted dominant share,
 * never above a hard limit. Within a project, the session's job order applies. A single-queue
 * ordering (fifo, las, sjf-oracle) instead takes every pending job in one cluster-wide order.
 */
final class AllocateAction
        implements Action
{
    static final String NAME = "allocate";

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public void execute(Session session)
    {
        Map<List<Object>, Session.NoFit> overQuotaMessages = new HashMap<>();
        if (session.ordering().queues() == Ordering.QueueOrder.SINGLE_QUEUE) {
            // one cluster-wide queue in the ordering's order: every job that fits starts, quotas only limit
            Map<String, Deque<PendingExperiment>> queue = new LinkedHashMap<>();
            queue.put(SINGLE_QUEUE, new ArrayDeque<>(session.pendingInJobOrder()));
            drain(session, queue, name -> name, name -> 0, name -> 0, job -> {
                if (session.ledger().withinDeserved(job.project(), session.demandMilli(job))) {
                    allocateInQuota(session, job);
                }
                else {
                    allocateOverQuota(session, job, overQuotaMessages);
                }
            });
            return;
        }
        Map<String, Deque<PendingExperiment>> inQuota = queuesByProject(session.pendingInJobOrder());
        Map<String, List<PendingExperiment>> deferred = new LinkedHashMap<>();
        // in quota every project is its own group: the guaranteed share needs no department level
        drain(session, inQuota, project -> project, session.ledger()::deservedRatio, session.ledger()::deservedRatio, job -> {
            if (!session.ledger().withinDeserved(job.project(), session.demandMilli(job))) {
                deferred.computeIfAbsent(job.project(), ignored -> new ArrayList<>()).add(job);
                return;
            }
            allocateInQuota(session, job);
        });

        List<PendingExperiment> overQuotaJobs = new ArrayList<>();
        deferred.values().forEach(overQuotaJobs::addAll);
        drain(session, queuesByProject(overQuotaJobs), session.ledger()::fairShareGroup, session.ledger()::groupShare, session.ledger()::weightedDominantShare,
                job -> allocateOverQuota(session, job, overQuotaMessages));
        // reservations hold for allocate only: reclaim and preemption may use any node, the starving
        // gang's own victim search first among them
        session.state().releaseReservations();
    }

    /** The queue name of a single-queue ordering; no project can be named so (names are trimmed, non-blank). */
    private static final String SINGLE_QUEUE = " cluster ";

    private static void allocateInQuota(Session session, PendingExperiment job)
    {
        Outcome outcome = tryPlace(session, job, true);
        if (outcome == Outcome.PLACED || neverFits(session, job)) {
            return;
        }
        session.explain(Unplaced.noFit(job.id(), UnplacedReason.NO_FIT, noRoom(session, job, outcome)));
        session.markStarvedInQuota(job);
        reserveIfStarving(session, job);
    }

    private static void allocateOverQuota(Session session, PendingExperiment job, Map<List<Object>, Session.NoFit> overQuotaMessages)
    {
        long demand = session.demandMilli(job);
        if (!job.preemptible()) {
            session.explain(new Unplaced(job.id(), UnplacedReason.NON_PREEMPTIBLE_OVER_QUOTA, String.format(
                    "non-preemptible work runs only within the deserved GPUs of project %s: deserved %s, uses %s, asks %s",
                    job.project(), QuotaLedger.gpus(session.ledger().quota(job.project()).deservedMilliGpu()),
                    QuotaLedger.gpus(session.ledger().used(job.project())), QuotaLedger.gpus(demand))));
            return;
        }
        Optional<Unplaced> limit = session.ledger().limitViolation(job.id(), job.project(), demand);
        if (limit.isPresent()) {
            session.explain(limit.get());
            return;
        }
        Outcome outcome = tryPlace(session, job, false);
        if (outcome == Outcome.PLACED || neverFits(session, job)) {
            return;
        }
        // a long backlog repeats few shapes per project: build each sentence once
        Session.NoFit noFit = outcome == Outcome.QUOTA
                ? overQuota(session, job, outcome)
                : overQuotaMessages.computeIfAbsent(List.of(job.project(), session.shapeOf(job)), ignored -> overQuota(session, job, outcome));
        session.explain(Unplaced.noFit(job.id(), UnplacedReason.NO_FIT, noFit));
        reserveIfStarving(session, job);
    }

    /** Records NEVER_FITS and returns true when the cluster could not hold the gang even empty. */
    private static boolean neverFits(Session session, PendingExperiment job)
    {
        Optional<Session.NoFit> never = session.neverFits(job);
        never.ifPresent(noFit -> session.explain(Unplaced.noFit(job.id(), UnplacedReason.NEVER_FITS, noFit)));
        return never.isPresent();
    }

    private static Session.NoFit overQuota(Session session, PendingExperiment job, Outcome outcome)
    {
        Session.NoFit noRoom = noRoom(session, job, outcome);
        return new Session.NoFit(noRoom.message() + "; project " + job.project() + " is beyond its deserved "
                + QuotaLedger.gpus(session.ledger().quota(job.project()).deservedMilliGpu()) + " GPUs, so it only gets idle GPUs", noRoom.fit());
    }

    private interface JobHandler
    {
        void handle(PendingExperiment job);
    }

    /**
     * Takes one job at a time from the project that ranks first now, within the group (department)
     * that ranks first now, until every queue is empty. Placing a job changes only the ranks of its
     * own project and group, which are out of their queues at that moment, so the heaps stay valid.
     */
    private static void drain(
            Session session,
            Map<String, Deque<PendingExperiment>> queues,
            Function<String, String> groupOf,
            ToDoubleFunction<String> groupRank,
            ToDoubleFunction<String> projectRank,
            JobHandler handler)
    {
        Comparator<String> projectOrder = Comparator.comparingDouble(projectRank).thenComparing(Comparator.naturalOrder());
        Map<String, PriorityQueue<String>> projectsByGroup = new LinkedHashMap<>();
        for (Map.Entry<String, Deque<PendingExperiment>> queue : queues.entrySet()) {
            // an empty queue takes no turn (the single cluster-wide queue is empty when nothing waits)
            if (!queue.getValue().isEmpty()) {
                projectsByGroup.computeIfAbsent(groupOf.apply(queue.getKey()), ignored -> new PriorityQueue<>(projectOrder)).add(queue.getKey());
            }
        }
        PriorityQueue<String> groups = new PriorityQueue<>(Comparator.comparingDouble(groupRank).thenComparing(Comparator.naturalOrder()));
        groups.addAll(projectsByGroup.keySet());
        while (!groups.isEmpty()) {
            String group = groups.poll();
            PriorityQueue<String> projects = projectsByGroup.get(group);
            String project = projects.poll();
            Deque<PendingExperiment> queue = queues.get(project);
            // a job that places nothing changes no share, so this project stays first: its next job
            // follows without the two heaps (most jobs of a long backlog place nothing)
            int placedBefore;
            do {
                placedBefore = session.placementCount();
                handler.handle(queue.poll());
            }
            while (!queue.isEmpty() && session.placementCount() == placedBefore);
            if (!queue.isEmpty()) {
                projects.add(project);
            }
            if (!projects.isEmpty()) {
                groups.add(group);
            }
        }
    }

    private enum Outcome { PLACED, NO_ROOM, QUOTA }

    private static Session.NoFit noRoom(Session session, PendingExperiment job, Outcome outcome)
    {
        Session.NoFit noFit = session.noRoom(session.shapeOf(job)).orElse(null);
        if (outcome == Outcome.QUOTA || noFit == null) {
            return session.noFit(job);
        }
        return noFit;
    }

    /** Places the gang if its actual GPU use keeps the project within deserved (in-quota) or its limits. */
    private static Outcome tryPlace(Session session, PendingExperiment job, boolean inQuota)
    {
        Session.GangShape shape = session.shapeOf(job);
        if (session.noRoom(shape).isPresent()) {
            return Outcome.NO_ROOM;
        }
        int checkpoint = session.statement().checkpoint();
        Optional<List<ReplicaPlacement>> gang = session.statement().placeGang(job.request(), job.replicas());
        if (gang.isEmpty()) {
            session.rememberNoRoom(shape, session.noFit(job));
            return Outcome.NO_ROOM;
        }
        long actual = gang.get().stream().mapToLong(ReplicaPlacement::totalGpuMilli).sum();
        // memory-sized requests are only known in milli once placed: check the quota again
        boolean allowed = inQuota
                ? session.ledger().withinDeserved(job.project(), actual)
                : session.ledger().limitViolation(job.id(), job.project(), actual).isEmpty();
        if (!allowed) {
            session.statement().rollback(checkpoint);
            return Outcome.QUOTA;
        }
        session.recordPlacement(job, gang.get(), List.of());
        return Outcome.PLACED;
    }

    private static void reserveIfStarving(Session session, PendingExperiment job)
    {
        // a single queue never reserves room (fifo as replays define it)
        if (session.isStarving(job) && session.ordering().queues() == Ordering.QueueOrder.FAIR_SHARE) {
            session.reserveFor(job);
        }
    }

    /** Each project's jobs, in the order given: {@code jobs} comes in job order, or each project's part does. */
    private static Map<String, Deque<PendingExperiment>> queuesByProject(List<PendingExperiment> jobs)
    {
        Map<String, Deque<PendingExperiment>> queues = new LinkedHashMap<>();
        for (PendingExperiment job : jobs) {
            queues.computeIfAbsent(job.project(), ignored -> new ArrayDeque<>()).add(job);
        }
        return queues;
    }
}
