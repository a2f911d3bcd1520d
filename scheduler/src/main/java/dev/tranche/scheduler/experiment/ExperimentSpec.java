package dev.tranche.scheduler.experiment;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ResourceRequest;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static java.util.Objects.requireNonNull;

/**
 * What a user asked for, in the scheduler's terms, every default filled in. The user-facing rules
 * (field paths, ranges, suggestions) are checked where a spec enters, by the API's validator; the
 * constructors here hold the invariants the scheduler relies on, so a record that exists is usable.
 * The wire form (protobuf) is mapped in one place, {@code wire.ExperimentSpecs}.
 *
 * @param replicas data-parallel workers, placed as one gang
 * @param resources what each replica needs
 * @param preemptible whether the scheduler may evict it to give GPUs back to in-quota work
 * @param maxRetries how often a failed run is retried before the experiment fails
 * @param training what the workers train: model, data and the training loop; the scheduler passes it on
 */
public record ExperimentSpec(
        String name,
        String project,
        Map<String, String> labels,
        int replicas,
        ResourceRequest resources,
        PriorityClass priority,
        boolean preemptible,
        int maxRetries,
        Training training)
{
    public ExperimentSpec
    {
        requireNonNull(name, "name is null");
        requireNonNull(project, "project is null");
        labels = Map.copyOf(requireNonNull(labels, "labels is null"));
        requireNonNull(resources, "resources is null");
        requireNonNull(priority, "priority is null");
        requireNonNull(training, "training is null");
        if (name.isEmpty() || project.isEmpty()) {
            throw new IllegalArgumentException("an experiment spec needs a name and a project");
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be at least 1: got " + replicas);
        }
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must not be negative: got " + maxRetries);
        }
    }

    public ExperimentSpec withName(String newName)
    {
        return new ExperimentSpec(newName, project, labels, replicas, resources, priority, preemptible, maxRetries, training);
    }

    public ExperimentSpec withProject(String newProject)
    {
        return new ExperimentSpec(name, newProject, labels, replicas, resources, priority, preemptible, maxRetries, training);
    }

    /** Milli-GPUs the whole gang asks for; memory requests count 0 since their size depends on the GPU. */
    public long requestedMilli()
    {
        GpuRequest gpu = resources.gpu();
        return gpu.kind() == GpuRequest.Kind.MEMORY ? 0 : gpu.totalMilli(0) * replicas;
    }

    /** The model, the data and the training loop: read by the workers, carried by the scheduler. */
    public record Training(Model model, Dataset dataset, Loop loop)
    {
        public Training
        {
            requireNonNull(model, "model is null");
            requireNonNull(dataset, "dataset is null");
            requireNonNull(loop, "loop is null");
        }
    }

    /** @param blocksPerStage absent for architectures without stages of blocks (lenet) */
    public record Model(String architecture, List<Integer> convFilters, int denseUnits, OptionalInt blocksPerStage, double dropout)
    {
        public Model
        {
            requireNonNull(architecture, "architecture is null");
            convFilters = List.copyOf(requireNonNull(convFilters, "convFilters is null"));
            requireNonNull(blocksPerStage, "blocksPerStage is null");
        }
    }

    /**
     * @param location empty for the kind's default directory
     * @param limit training images used, 0 for all
     * @param testLimit test images used, 0 for all
     */
    public record Dataset(String kind, String location, int limit, int testLimit, double validationFraction)
    {
        public Dataset
        {
            requireNonNull(kind, "kind is null");
            requireNonNull(location, "location is null");
        }
    }

    /**
     * @param averagingFrequency "auto" or a whole number of steps
     * @param earlyStoppingPatience absent when every epoch is trained
     * @param learningRateSchedule "cosine" or "constant"; empty in specs stored before it existed (they train at a constant rate)
     */
    public record Loop(int epochs, int batchSize, String optimizer, double learningRate, long seed, String dataParallelism, String averagingFrequency,
            OptionalInt earlyStoppingPatience, String learningRateSchedule)
    {
        public Loop
        {
            requireNonNull(optimizer, "optimizer is null");
            requireNonNull(dataParallelism, "dataParallelism is null");
            requireNonNull(averagingFrequency, "averagingFrequency is null");
            requireNonNull(earlyStoppingPatience, "earlyStoppingPatience is null");
            requireNonNull(learningRateSchedule, "learningRateSchedule is null");
            if (epochs < 1 || batchSize < 1) {
                throw new IllegalArgumentException("epochs and batchSize must be at least 1: got " + epochs + " and " + batchSize);
            }
        }
    }
}
