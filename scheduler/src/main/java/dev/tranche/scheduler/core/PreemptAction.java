package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.RunningAllocation;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Work that did not fit may evict borrowable work its victim filters admit (by default
 * {@code same-project} and {@code lower-priority}: within a project, higher-priority work takes the
 * place of lower-priority, preemptible work that runs beyond the deserved share). Quota limits still
 * hold.
 */
final class PreemptAction
        implements Action
{
    static final String NAME = "preempt";

    private final List<VictimFilter> filters;

    PreemptAction(List<VictimFilter> filters)
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
        Set<List<Object>> failed = new HashSet<>();
        for (PendingExperiment job : waiting) {
            List<Object> key = session.victimSearchKey(filters, job);
            if (failed.contains(key)) {
                continue;
            }
            List<RunningAllocation> candidates = session.victimCandidates(session.borrowable(), filters, job);
            int checkpoint = session.statement().checkpoint();
            Optional<VictimSearch.Plan> plan = VictimSearch.find(session, job, candidates);
            if (plan.isEmpty()) {
                failed.add(key);
                continue;
            }
            long freed = plan.get().victims().stream().mapToLong(RunningAllocation::gpuMilli).sum();
            long taken = plan.get().placements().stream().mapToLong(ReplicaPlacement::totalGpuMilli).sum();
            boolean allowed = job.preemptible()
                    ? session.ledger().limitViolation(job.id(), job.project(), taken - freed).isEmpty()
                    : session.ledger().withinDeserved(job.project(), taken - freed);
            if (!allowed) {
                session.statement().rollback(checkpoint);
                continue;
            }
            for (RunningAllocation victim : plan.get().victims()) {
                session.recordEviction(victim, job, Preemption.Kind.PRIORITY, String.format(
                        "preempted by higher-priority %s (priority %d > %d) of project %s",
                        job.id(), job.priority(), victim.priority(), job.project()));
            }
            session.recordPlacement(job, plan.get().placements(), plan.get().victims().stream().map(RunningAllocation::experimentId).toList());
        }
    }
}
