package dev.tranche.worker.train;

import dev.tranche.proto.v1.DatasetSpec;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ModelSpec;
import dev.tranche.proto.v1.TrainingSpec;
import dev.tranche.spec.ExperimentSpecValidator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Specs for the training tests, normalized by the same validator the CLI uses. */
final class Specs
{
    static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    private Specs() {}

    static ExperimentSpec spec(ModelSpec model, DatasetSpec dataset, TrainingSpec training)
    {
        return new ExperimentSpecValidator().validateAndNormalize(ExperimentSpec.newBuilder()
                .setName("test").setProject("default").setModel(model).setDataset(dataset).setTraining(training).build());
    }

    static ModelSpec lenet()
    {
        return ModelSpec.newBuilder().setArchitecture("lenet").build();
    }

    static TrainingSpec training(int epochs, int batchSize)
    {
        return TrainingSpec.newBuilder().setEpochs(epochs).setBatchSize(batchSize).setOptimizer("adam").setLearningRate(0.001).setSeed(42).build();
    }

    static TrainOptions spark(ExperimentSpec spec, int averagingFrequency, Optional<Path> checkpoints)
    {
        ExperimentSpec.Builder fixed = spec.toBuilder();
        fixed.getTrainingBuilder().setAveragingFrequency(Integer.toString(averagingFrequency));
        return new TrainOptions(fixed.build(), TrainOptions.Engine.spark, "local[2]", 2, 1, checkpoints);
    }

    static boolean haveFashionMnist()
    {
        return Files.isRegularFile(FASHION_MNIST.resolve("train-images-idx3-ubyte.gz"));
    }
}
