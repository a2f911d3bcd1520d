package dev.tranche.scheduler.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.tranche.proto.v1.DatasetSpec;
import dev.tranche.proto.v1.EarlyStopping;
import dev.tranche.proto.v1.ModelSpec;
import dev.tranche.proto.v1.TrainingSpec;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.experiment.ExperimentSpec;
import dev.tranche.scheduler.experiment.PriorityClass;
import dev.tranche.spec.ExperimentSpecValidator;

import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one mapping between the domain's {@link ExperimentSpec} and its protobuf form
 * ({@code tranche.v1.ExperimentSpec}), which is three things at once: what the API takes and returns,
 * how the store keeps a spec (bytes that older and newer versions both read), and what a worker is
 * handed (JSON). Domain packages never see the protobuf type.
 */
public final class ExperimentSpecs
{
    private static final ExperimentSpecValidator VALIDATOR = new ExperimentSpecValidator();

    private ExperimentSpecs() {}

    /**
     * A spec as a user sent it: every rule checked, defaults filled in.
     *
     * @throws dev.tranche.spec.InvalidSpecException listing every rule broken, by field path
     */
    public static ExperimentSpec fromRequest(dev.tranche.proto.v1.ExperimentSpec spec)
    {
        return toDomain(VALIDATOR.validateAndNormalize(spec));
    }

    /**
     * A spec as stored. Defaults are filled in again, so a spec stored before a field existed reads
     * with that field's default; the rules are not checked again (a rule made stricter later must not
     * make accepted work unreadable).
     */
    public static ExperimentSpec fromStored(byte[] bytes)
            throws InvalidProtocolBufferException
    {
        return toDomain(VALIDATOR.normalize(dev.tranche.proto.v1.ExperimentSpec.parseFrom(bytes)));
    }

    public static byte[] toStored(ExperimentSpec spec)
    {
        return toProto(spec).toByteArray();
    }

    /** What a worker reads: the spec as protobuf JSON with the field names of the .proto file. */
    public static String toWorkerJson(ExperimentSpec spec)
    {
        try {
            return JsonFormat.printer().preservingProtoFieldNames().print(toProto(spec));
        }
        catch (InvalidProtocolBufferException e) {
            // only an Any with an unknown type fails to print, and a spec has none
            throw new IllegalStateException(e);
        }
    }

    public static dev.tranche.proto.v1.ExperimentSpec toProto(ExperimentSpec spec)
    {
        ExperimentSpec.Model model = spec.training().model();
        ModelSpec.Builder modelProto = ModelSpec.newBuilder()
                .setArchitecture(model.architecture())
                .addAllConvFilters(model.convFilters())
                .setDenseUnits(model.denseUnits())
                .setDropout(model.dropout());
        model.blocksPerStage().ifPresent(modelProto::setBlocksPerStage);
        ExperimentSpec.Dataset dataset = spec.training().dataset();
        ExperimentSpec.Loop loop = spec.training().loop();
        TrainingSpec.Builder loopProto = TrainingSpec.newBuilder()
                .setEpochs(loop.epochs())
                .setBatchSize(loop.batchSize())
                .setOptimizer(loop.optimizer())
                .setLearningRate(loop.learningRate())
                .setSeed(loop.seed())
                .setDataParallelism(loop.dataParallelism())
                .setAveragingFrequency(loop.averagingFrequency())
                .setLearningRateSchedule(loop.learningRateSchedule());
        loop.earlyStoppingPatience().ifPresent(patience -> loopProto.setEarlyStopping(EarlyStopping.newBuilder().setPatience(patience)));
        return dev.tranche.proto.v1.ExperimentSpec.newBuilder()
                .setName(spec.name())
                .setProject(spec.project())
                .putAllLabels(spec.labels())
                .setModel(modelProto)
                .setDataset(DatasetSpec.newBuilder()
                        .setKind(dataset.kind())
                        .setLocation(dataset.location())
                        .setLimit(dataset.limit())
                        .setTestLimit(dataset.testLimit())
                        .setValidationFraction(dataset.validationFraction()))
                .setTraining(loopProto)
                .setReplicas(spec.replicas())
                .setResources(resources(spec.resources()))
                .setPriority(spec.priority().label())
                .setPreemptible(spec.preemptible())
                .setMaxRetries(spec.maxRetries())
                .build();
    }

    /** Expects a normalized spec: defaults filled in. */
    private static ExperimentSpec toDomain(dev.tranche.proto.v1.ExperimentSpec spec)
    {
        ModelSpec model = spec.getModel();
        TrainingSpec loop = spec.getTraining();
        DatasetSpec dataset = spec.getDataset();
        ExperimentSpec.Training training = new ExperimentSpec.Training(
                new ExperimentSpec.Model(model.getArchitecture(), model.getConvFiltersList(), model.getDenseUnits(),
                        model.hasBlocksPerStage() ? OptionalInt.of(model.getBlocksPerStage()) : OptionalInt.empty(), model.getDropout()),
                new ExperimentSpec.Dataset(dataset.getKind(), dataset.getLocation(), dataset.getLimit(), dataset.getTestLimit(), dataset.getValidationFraction()),
                new ExperimentSpec.Loop(loop.getEpochs(), loop.getBatchSize(), loop.getOptimizer(), loop.getLearningRate(), loop.getSeed(),
                        loop.getDataParallelism(), loop.getAveragingFrequency(),
                        loop.hasEarlyStopping() ? OptionalInt.of(loop.getEarlyStopping().getPatience()) : OptionalInt.empty(),
                        loop.getLearningRateSchedule()));
        return new ExperimentSpec(spec.getName(), spec.getProject(), spec.getLabelsMap(), spec.getReplicas(), resources(spec.getResources()),
                PriorityClass.fromLabel(spec.getPriority()), spec.getPreemptible(), spec.getMaxRetries(), training);
    }

    private static ResourceRequest resources(dev.tranche.proto.v1.ResourceRequest resources)
    {
        GpuRequest gpu = GpuRequest.none();
        if (resources.hasGpu()) {
            dev.tranche.proto.v1.GpuRequest request = resources.getGpu();
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
        return new ResourceRequest(gpu, resources.getCpuMilli(), resources.getMemoryMib());
    }

    /** Models come back sorted: the domain keeps them as a set. */
    private static dev.tranche.proto.v1.ResourceRequest resources(ResourceRequest resources)
    {
        dev.tranche.proto.v1.ResourceRequest.Builder builder = dev.tranche.proto.v1.ResourceRequest.newBuilder()
                .setCpuMilli(Math.toIntExact(resources.cpuMilli()))
                .setMemoryMib(resources.memoryMib());
        GpuRequest gpu = resources.gpu();
        if (!gpu.isNone()) {
            dev.tranche.proto.v1.GpuRequest.Builder request = dev.tranche.proto.v1.GpuRequest.newBuilder();
            switch (gpu.kind()) {
                case FRACTION -> request.setFraction(gpu.milli() / (double) GpuRequest.MILLI_PER_GPU);
                case WHOLE -> request.setCount(gpu.count());
                case MEMORY -> request.setMemoryMib(gpu.memoryMib());
                case NONE -> { }
            }
            request.addAllModels(new TreeSet<>(gpu.allowedModels()));
            builder.setGpu(request);
        }
        return builder.build();
    }
}
