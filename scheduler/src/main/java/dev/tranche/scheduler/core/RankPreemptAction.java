package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.RunningAllocation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Preemption by rank (Tiresias-style least attained service): a waiting experiment that found no room
 * may evict borrowable work its victim filters admit (by default {@code ranks-after} and
 * {@code no-higher-priority}: rank strictly higher, that is more service, and priority not higher),
 * worst-ranked first, as few as make the gang fit. Only work that reclaim may take is a candidate
 * (preemptible and beyond its project's deserved share); limits still hold.
 */
final class RankPreemptAction
        implements Action
{
    static final String NAME = "preempt-by-rank";

    private final List<VictimFilter> filters;

    RankPreemptAction(List<VictimFilter> filters)
    {
        this.filters = List.copyOf(filters);
    }

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public void execute(Session session)
    {
        List<PendingExperiment> waiting = new ArrayList<>();
        for (PendingExperiment job : session.pendingInJobOrder()) {
            Unplaced reason = session.explanation(job.id()).orElse(null);
            if (reason != null && reason.reason() == UnplacedReason.NO_FIT) {
                waiting.add(job);
            }
        }
        if (waiting.isEmpty()) {
            return;
        }
        List<RunningAllocation> pool = mostServedFirst(session, session.borrowable());
        Set<List<Object>> failed = new HashSet<>();
        for (PendingExperiment job : waiting) {
            long rank = session.rank(job);
            List<Object> key = session.victimSearchKey(filters, job);
            if (failed.contains(key)) {
                continue;
            }
            List<RunningAllocation> victims = session.victimCandidates(pool, filters, job);
            int checkpoint = session.statement().checkpoint();
            Optional<VictimSearch.Plan> plan = VictimSearch.find(session, job, victims);
            if (plan.isEmpty()) {
                failed.add(key);
                continue;
            }
            long freed = plan.get().victims().stream().filter(victim -> victim.project().equals(job.project())).mapToLong(RunningAllocation::gpuMilli).sum();
            long taken = plan.get().placements().stream().mapToLong(ReplicaPlacement::totalGpuMilli).sum();
            boolean allowed = job.preemptible()
                    ? session.ledger().limitViolation(job.id(), job.project(), taken - freed).isEmpty()
                    : session.ledger().withinDeserved(job.project(), taken - freed);
            if (!allowed) {
                session.statement().rollback(checkpoint);
                continue;
            }
            for (RunningAllocation victim : plan.get().victims()) {
                session.recordEviction(victim, job, Preemption.Kind.RANK, String.format(
                        "preempted by %s of project %s, which has had less GPU service (rank %d < %d)",
                        job.id(), job.project(), rank, session.rank(victim)));
            }
            session.recordPlacement(job, plan.get().placements(), plan.get().victims().stream().map(RunningAllocation::experimentId).toList());
        }
    }

    /** The most served first; among equals the cheapest to lose (reclaim's victim order). Each rank is read once. */
    private static List<RunningAllocation> mostServedFirst(Session session, List<RunningAllocation> borrowable)
    {
        record Ranked(RunningAllocation allocation, long rank) {}
        Ranked[] ranked = new Ranked[borrowable.size()];
        for (int i = 0; i < ranked.length; i++) {
            ranked[i] = new Ranked(borrowable.get(i), session.rank(borrowable.get(i)));
        }
        Arrays.sort(ranked, (left, right) -> left.rank() != right.rank()
                ? Long.compare(right.rank(), left.rank())
                : ReclaimAction.VICTIM_ORDER.compare(left.allocation(), right.allocation()));
        List<RunningAllocation> pool = new ArrayList<>(ranked.length);
        for (Ranked entry : ranked) {
            pool.add(entry.allocation());
        }
        return pool;
    }
}
