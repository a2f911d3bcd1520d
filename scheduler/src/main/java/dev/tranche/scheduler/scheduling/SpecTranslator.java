package dev.tranche.scheduler.scheduling;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ResourceRequest;

import java.util.Map;
import java.util.Set;

/** The parts of a stored spec the scheduling core needs, in the core's terms. */
public final class SpecTranslator
{
    // Gaps leave room for classes between the named ones later.
    private static final Map<String, Integer> PRIORITIES = Map.of("low", 25, "normal", 50, "high", 75, "critical", 100);

    public ResourceRequest resources(ExperimentSpec spec)
    {
        GpuRequest gpu = GpuRequest.none();
        if (spec.getResources().hasGpu()) {
            var request = spec.getResources().getGpu();
            gpu = switch (request.getAmountCase()) {
                case FRACTION -> GpuRequest.fraction((int) Math.round(request.getFraction() * GpuRequest.MILLI_PER_GPU));
                case COUNT -> GpuRequest.whole(request.getCount());
                case MEMORY_MIB -> GpuRequest.memory(request.getMemoryMib());
                case AMOUNT_NOT_SET -> GpuRequest.none();
            };
            if (request.getModelsCount() > 0 && !gpu.isNone()) {
                gpu = gpu.onModels(Set.copyOf(request.getModelsList()));
            }
        }
        return new ResourceRequest(gpu, spec.getResources().getCpuMilli(), spec.getResources().getMemoryMib());
    }

    /** Milli-GPUs the whole gang asks for; memory requests count 0 since their size depends on the GPU. */
    public long requestedMilli(ExperimentSpec spec)
    {
        GpuRequest gpu = resources(spec).gpu();
        long perReplica = switch (gpu.kind()) {
            case FRACTION -> gpu.milli();
            case WHOLE -> (long) gpu.count() * GpuRequest.MILLI_PER_GPU;
            case MEMORY, NONE -> 0;
        };
        return perReplica * spec.getReplicas();
    }

    public int priority(ExperimentSpec spec)
    {
        Integer priority = PRIORITIES.get(spec.getPriority());
        if (priority == null) {
            throw new IllegalArgumentException("unknown priority class " + spec.getPriority());
        }
        return priority;
    }
}
