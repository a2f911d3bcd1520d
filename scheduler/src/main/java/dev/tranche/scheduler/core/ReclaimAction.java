package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.RunningAllocation;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * In-quota work that did not fit takes back GPUs that other projects borrowed: it may evict
 * borrowable work its victim filters admit (by default {@code other-projects}), lowest priority first
 * and then the most recently started, as few as make the gang fit. In-quota and non-preemptible work
 * is never touched.
 */
final class ReclaimAction
        implements Action
{
    static final String NAME = "reclaim";
    static final Comparator<RunningAllocation> VICTIM_ORDER = Comparator.comparingInt(RunningAllocation::priority)
            .thenComparing(Comparator.comparingLong(RunningAllocation::startSequence).reversed())
            .thenComparing(RunningAllocation::experimentId);

    private final List<VictimFilter> filters;

    ReclaimAction(List<VictimFilter> filters)
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
        List<PendingExperiment> starved = session.starvedInQuota().stream().sorted(session.jobOrder()).toList();
        if (starved.isEmpty()) {
            return;
        }
        List<RunningAllocation> borrowed = session.borrowable();
        // a gang shape that found no victims for a project (for equal filter keys) will not find them
        // later in this round: each success only evicts work the next search could have used
        // value: whether there was anything to evict, which decides what the reason says
        Map<List<Object>, Boolean> failed = new HashMap<>();
        for (PendingExperiment job : starved) {
            if (session.isPlaced(job.id()) || !session.ledger().withinDeserved(job.project(), session.demandMilli(job))) {
                continue;
            }
            List<Object> key = session.victimSearchKey(filters, job);
            Optional<VictimSearch.Plan> plan = Optional.empty();
            int checkpoint = session.statement().checkpoint();
            Boolean hadCandidates = failed.get(key);
            if (hadCandidates == null) {
                List<RunningAllocation> candidates = session.victimCandidates(borrowed, filters, job);
                hadCandidates = !candidates.isEmpty();
                plan = VictimSearch.find(session, job, candidates);
            }
            if (plan.isEmpty()) {
                failed.put(key, hadCandidates);
                Unplaced before = session.explanation(job.id()).orElse(null);
                if (before != null && hadCandidates) {
                    session.explain(before.adding("; evicting other projects' over-quota work would not make room either"));
                }
                continue;
            }
            long actual = plan.get().placements().stream().mapToLong(ReplicaPlacement::totalGpuMilli).sum();
            if (!session.ledger().withinDeserved(job.project(), actual)) {
                session.statement().rollback(checkpoint);
                continue;
            }
            long deserved = session.ledger().quota(job.project()).deservedMilliGpu();
            for (RunningAllocation victim : plan.get().victims()) {
                long victimDeserved = session.ledger().quota(victim.project()).deservedMilliGpu();
                session.recordEviction(victim, job, Preemption.Kind.RECLAIM, String.format(
                        "project %s reclaims GPUs within its deserved %s for %s; project %s uses %s GPUs, beyond its deserved %s",
                        job.project(), QuotaLedger.gpus(deserved), job.id(), victim.project(),
                        QuotaLedger.gpus(session.ledger().used(victim.project())), QuotaLedger.gpus(victimDeserved)));
            }
            session.recordPlacement(job, plan.get().placements(), plan.get().victims().stream().map(RunningAllocation::experimentId).toList());
        }
    }
}
