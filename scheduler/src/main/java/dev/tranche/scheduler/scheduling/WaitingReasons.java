package dev.tranche.scheduler.scheduling;

import dev.tranche.scheduler.core.Unplaced;
import dev.tranche.scheduler.core.placement.FitFailure;
import dev.tranche.scheduler.core.placement.FitReport;
import dev.tranche.scheduler.experiment.FitCheck;
import dev.tranche.scheduler.experiment.Waiting;
import dev.tranche.scheduler.experiment.WaitingReason;

import java.util.EnumMap;
import java.util.Map;

/** The core's reasons for leaving an experiment pending, as the experiment domain stores and shows them. */
final class WaitingReasons
{
    private WaitingReasons() {}

    static Waiting of(Unplaced unplaced)
    {
        Map<FitCheck, Integer> failing = new EnumMap<>(FitCheck.class);
        int fitting = 0;
        if (unplaced.fit().isPresent()) {
            FitReport report = unplaced.fit().get();
            report.nodesByFailure().forEach((failure, nodes) -> failing.put(check(failure), nodes));
            fitting = report.fittingNodes();
        }
        return new Waiting(reason(unplaced), unplaced.message(), failing, fitting);
    }

    private static WaitingReason reason(Unplaced unplaced)
    {
        return switch (unplaced.reason()) {
            case NO_FIT -> WaitingReason.NO_FIT;
            case NEVER_FITS -> WaitingReason.NEVER_FITS;
            case PROJECT_LIMIT -> WaitingReason.PROJECT_LIMIT;
            case DEPARTMENT_LIMIT -> WaitingReason.DEPARTMENT_LIMIT;
            case NON_PREEMPTIBLE_OVER_QUOTA -> WaitingReason.NON_PREEMPTIBLE_OVER_QUOTA;
        };
    }

    static FitCheck check(FitFailure failure)
    {
        return switch (failure) {
            case UNSCHEDULABLE -> FitCheck.NODE_UNSCHEDULABLE;
            case RESERVED -> FitCheck.NODE_RESERVED;
            case INSUFFICIENT_CPU -> FitCheck.INSUFFICIENT_CPU;
            case INSUFFICIENT_MEMORY -> FitCheck.INSUFFICIENT_MEMORY;
            case TOO_FEW_GPUS -> FitCheck.TOO_FEW_GPUS;
            case NO_ALLOWED_GPU -> FitCheck.NO_ALLOWED_GPU_MODEL;
            case GPU_MEMORY_TOO_SMALL -> FitCheck.GPU_MEMORY_TOO_SMALL;
            case INSUFFICIENT_GPU -> FitCheck.INSUFFICIENT_GPU;
        };
    }
}
