package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.RunningAllocation;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What the preempting actions share: each experiment that found no room, in job order, may evict
 * work from a pool that the action's victim filters admit, as few as make its gang fit, if the
 * project's limits (or, for work that may not be preempted itself, its deserved share) still hold
 * after its own evicted work is subtracted. A gang shape whose search found nothing is not searched
 * again for preemptors with the same filter keys.
 */
final class EvictingPlacement
{
    /** Why {@code victim} makes way for {@code preemptor}, in the words the user reads. */
    interface Reason
    {
        String of(PendingExperiment preemptor, RunningAllocation victim);
    }

    private EvictingPlacement() {}

    /** @param pool the work to choose victims from, in the order to try it; read only when something waits for room */
    static void run(Session session, List<VictimFilter> filters, Function<Session, List<RunningAllocation>> pool, Preemption.Kind kind, Reason reason)
    {
        List<PendingExperiment> waiting = waitingForRoom(session);
        if (waiting.isEmpty()) {
            return;
        }
        List<RunningAllocation> victims = pool.apply(session);
        Set<List<Object>> failed = new HashSet<>();
        for (PendingExperiment job : waiting) {
            List<Object> key = session.victimSearchKey(filters, job);
            if (failed.contains(key)) {
                continue;
            }
            List<RunningAllocation> candidates = session.victimCandidates(victims, filters, job);
            int checkpoint = session.statement().checkpoint();
            Optional<VictimSearch.Plan> plan = VictimSearch.find(session, job, candidates);
            if (plan.isEmpty()) {
                failed.add(key);
                continue;
            }
            // the project's own evicted work no longer counts against it; other projects' does not free its quota
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
                session.recordEviction(victim, job, kind, reason.of(job, victim));
            }
            session.recordPlacement(job, plan.get().placements(), plan.get().victims().stream().map(RunningAllocation::experimentId).toList());
        }
    }

    /** The experiments the cycle found no room for, in job order. */
    private static List<PendingExperiment> waitingForRoom(Session session)
    {
        List<PendingExperiment> waiting = new ArrayList<>();
        for (PendingExperiment job : session.pendingInJobOrder()) {
            Unplaced reason = session.explanation(job.id()).orElse(null);
            if (reason != null && reason.reason() == UnplacedReason.NO_FIT) {
                waiting.add(job);
            }
        }
        return waiting;
    }
}
