package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.RunningAllocation;

import java.util.ArrayList;
import java.util.Comparator;
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
        for (PendingExperiment job : session.snapshot().pending()) {
            Unplaced reason = session.explanation(job.id()).orElse(null);
            if (reason != null && reason.reason() == UnplacedReason.NO_FIT) {
                waiting.add(job);
            }
        }
        if (waiting.isEmpty()) {
            return;
        }
        waiting.sort(session.jobOrder());
        List<RunningAllocation> pool = new ArrayList<>(session.borrowable());
        // the most served first; among equals the cheapest to lose (reclaim's victim order)
        pool.sort(Comparator.comparingLong((RunningAllocation allocation) -> session.rank(allocation)).reversed().thenComparing(ReclaimAction.VICTIM_ORDER));
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
}
