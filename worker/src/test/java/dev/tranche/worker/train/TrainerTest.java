package dev.tranche.worker.train;

import dev.tranche.testing.Prerequisites;
import dev.tranche.proto.v1.DatasetSpec;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ModelSpec;
import dev.tranche.worker.data.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real Spark in local mode, real DL4J, real files. */
class TrainerTest
{
    @TempDir
    Path dir;

    @Test
    void parameterAveragingOnSparkLearnsFashionMnist()
    {
        Prerequisites.require(Specs.haveFashionMnist(), "Fashion-MNIST is installed by .ci/run (dataset-fashion-mnist)");
        ExperimentSpec spec = Specs.spec(Specs.lenet(),
                DatasetSpec.newBuilder().setKind("fashion-mnist").setLimit(3000).setTestLimit(1000).build(),
                Specs.training(1, 64));
        List<String> steps = new ArrayList<>();
        List<EpochResult> epochs = new ArrayList<>();
        List<Double> tests = new ArrayList<>();
        List<String> info = new ArrayList<>();
        TrainingEvents events = new TrainingEvents()
        {
            @Override
            public void epoch(EpochResult result)
            {
                epochs.add(result);
            }

            @Override
            public void info(String message)
            {
                info.add(message);
            }

            @Override
            public void test(int modelEpoch, double loss, double accuracy)
            {
                tests.add(accuracy);
            }

            @Override
            public void step(int epoch, int epochs, int batch, int batches, long step, double loss, double imagesPerSecond, double learningRate, double etaSeconds)
            {
                steps.add(epoch + ":" + batch + "/" + batches);
                assertThat(loss).isFinite().isPositive();
                assertThat(imagesPerSecond).isPositive();
            }
        };
        TrainingResult result = new Trainer(Specs.spark(spec, 2, Optional.empty()), events, new StopSignal()).run();
        assertThat(result.epochs()).isEqualTo(1);
        assertThat(result.testImages()).isEqualTo(1000);
        // a tenth of the 3,000 training images validates, the rest trains
        assertThat(result.validationImages()).isEqualTo(300);
        assertThat(result.trainImages()).isEqualTo(2700);
        assertThat(result.testAccuracy()).isGreaterThan(0.6);
        assertThat(result.imagesPerSecond()).isPositive();
        assertThat(epochs).singleElement().satisfies(e -> assertThat(e.validationAccuracy()).isGreaterThan(0.6));
        // the test images once, at the end, on the model handed over
        assertThat(tests).containsExactly(result.testAccuracy());
        assertThat(result.modelEpoch()).isEqualTo(1);
        // 43 batches in segments of 2 workers x 2 steps x 4 rounds = 16
        assertThat(steps).containsExactly("1:16/43", "1:32/43", "1:43/43");
        // two workers' average carries half of each segment's update into the next (BlockMomentum)
        assertThat(info).anyMatch(m -> m.contains("2 workers") && m.contains("block momentum 0.50"));
    }

    @Test
    void gradientSharingTrainsToo()
            throws IOException
    {
        Fixtures.idx(dir, 600, 200, true);
        ExperimentSpec spec = Specs.spec(Specs.lenet(),
                DatasetSpec.newBuilder().setKind("mnist").setLocation(dir.toString()).build(),
                Specs.training(1, 32).toBuilder().setDataParallelism("gradient-sharing").build());
        TrainingResult result = new Trainer(Specs.spark(spec, 5, Optional.empty()), new TrainingEvents() {}, new StopSignal()).run();
        assertThat(result.mode()).isEqualTo("gradient-sharing");
        // the fixture's classes are bands of bright rows: easy once anything is learned
        assertThat(result.testAccuracy()).isGreaterThan(0.5);
    }

    @Test
    void resnetTrainsAsAGraphOnCifarFormat()
            throws IOException
    {
        Fixtures.cifar(dir, 40);
        ExperimentSpec spec = Specs.spec(
                ModelSpec.newBuilder().setArchitecture("resnet").addConvFilters(4).addConvFilters(8).setBlocksPerStage(1).setDenseUnits(16).build(),
                DatasetSpec.newBuilder().setKind("cifar10").setLocation(dir.toString()).setLimit(128).setTestLimit(32).build(),
                Specs.training(1, 16));
        TrainingResult result = new Trainer(Specs.spark(spec, 2, Optional.empty()), new TrainingEvents() {}, new StopSignal()).run();
        assertThat(result.epochResults()).hasSize(1);
        assertThat(result.testLoss()).isFinite();
    }

    @Test
    void theCosineScheduleReachesTheSparkWorkers()
            throws IOException
    {
        Fixtures.idx(dir.resolve("data"), 640, 100, false);
        DatasetSpec data = DatasetSpec.newBuilder().setKind("mnist").setLocation(dir.resolve("data").toString()).build();
        Map<String, List<Double>> rates = new HashMap<>();
        Map<String, TrainingResult> results = new HashMap<>();
        for (String schedule : List.of("constant", "cosine")) {
            ExperimentSpec spec = Specs.spec(Specs.lenet(), data, Specs.training(2, 32).toBuilder().setLearningRateSchedule(schedule).build());
            List<Double> seen = new ArrayList<>();
            rates.put(schedule, seen);
            results.put(schedule, new Trainer(Specs.spark(spec, 1, Optional.empty()), new TrainingEvents()
            {
                @Override
                public void step(int epoch, int epochs, int batch, int batches, long step, double loss, double imagesPerSecond, double learningRate, double etaSeconds)
                {
                    seen.add(learningRate);
                }
            }, new StopSignal()).run());
        }
        // 18 batches an epoch in segments of 8: the rate each segment trained at
        assertThat(rates.get("constant")).hasSize(6).containsOnly(0.001);
        assertThat(rates.get("cosine")).hasSize(6).first().isEqualTo(0.001);
        assertThat(rates.get("cosine")).isSortedAccordingTo(Comparator.reverseOrder()).last().satisfies(last -> assertThat(last).isLessThan(0.0002));
        // the same seed, data and order: only the rate the workers trained at can make the losses differ
        assertThat(results.get("cosine").epochResults().get(1).trainLoss()).isNotEqualTo(results.get("constant").epochResults().get(1).trainLoss());
    }

    @Test
    void stopRequestCheckpointsMidEpochAndAResumeFinishesTheRun()
            throws IOException, InterruptedException
    {
        Fixtures.idx(dir.resolve("data"), 640, 100, false);
        Path checkpoints = dir.resolve("checkpoints");
        ExperimentSpec spec = Specs.spec(Specs.lenet(),
                DatasetSpec.newBuilder().setKind("mnist").setLocation(dir.resolve("data").toString()).build(),
                Specs.training(2, 32));
        StopSignal stop = new StopSignal();
        TrainingEvents stopInEpochTwo = new TrainingEvents()
        {
            @Override
            public void step(int epoch, int epochs, int batch, int batches, long step, double loss, double imagesPerSecond, double learningRate, double etaSeconds)
            {
                if (epoch == 2) {
                    stop.request();
                }
            }
        };
        TrainingResult first = new Trainer(Specs.spark(spec, 1, Optional.of(checkpoints)), stopInEpochTwo, stop).run();
        assertThat(first.stopped()).isTrue();
        assertThat(first.epochResults()).hasSize(1);
        // 20 batches an epoch in segments of 2 x 1 x 4 = 8: stopped after batch 8 of epoch 2
        assertThat(checkpoints.resolve("epoch-0001-batch-000008.ckpt")).exists();
        // a worker killed mid-write left its temporary file: the next start removes it
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path leftover = Files.write(checkpoints.resolve(".tmp-epoch-0002-batch-000000.ckpt-" + gone.pid()), new byte[1000]);

        List<String> info = new ArrayList<>();
        TrainingResult second = new Trainer(Specs.spark(spec, 1, Optional.of(checkpoints)), new TrainingEvents()
        {
            @Override
            public void info(String message)
            {
                info.add(message);
            }
        }, new StopSignal()).run();
        assertThat(info).anyMatch(m -> m.contains("resuming from checkpoint epoch-0001-batch-000008.ckpt"));
        assertThat(leftover).doesNotExist();
        assertThat(second.stopped()).isFalse();
        assertThat(second.resumedFromEpoch()).isEqualTo(1);
        assertThat(second.epochResults()).extracting(EpochResult::epoch).containsExactly(2);
        assertThat(Files.exists(checkpoints.resolve("epoch-0002-batch-000000.ckpt"))).isTrue();
        assertThat(checkpoints.resolve("best.ckpt")).exists();
    }

    /**
     * A resume took whatever network the checkpoint held: other filters or units trained on silently
     * as if they were the experiment's model, other images or classes ended in a DL4J stack trace
     * halfway through fitting. Now the start refuses, naming each difference and the checkpoint.
     */
    @Test
    void resumingACheckpointOfAnotherModelFailsNamingWhatDiffers()
            throws IOException
    {
        Fixtures.idx(dir.resolve("mnist"), 64, 16, false);
        Fixtures.imageFolder(dir.resolve("folder"), 3, 4, 8);
        DatasetSpec mnist = DatasetSpec.newBuilder().setKind("mnist").setLocation(dir.resolve("mnist").toString()).build();
        Path checkpoints = dir.resolve("checkpoints");
        // the checkpoint of a default LeNet (filters 20, 50; 500 dense units) on MNIST after one epoch
        ExperimentSpec trained = Specs.spec(Specs.lenet(), mnist, Specs.training(2, 32));
        dev.tranche.worker.model.Net net = dev.tranche.worker.model.Models.build(trained.getModel(), trained.getTraining(),
                new dev.tranche.worker.model.Models.Shape(1, 28, 28, 10));
        new dev.tranche.worker.checkpoint.CheckpointStore(checkpoints, System.err).save(net, false, new dev.tranche.worker.model.Models.Shape(1, 28, 28, 10),
                1, 0, 42, 0);
        String checkpoint = "checkpoint " + checkpoints.resolve("epoch-0001-batch-000000.ckpt") + " holds another model than this experiment trains: ";
        String advice = ". Resume with the model and data it was trained on, or give this experiment an empty checkpoint directory"
                + " (--checkpoint-dir, or $TRANCHE_CHECKPOINT_DIR) to train it from the start";

        ExperimentSpec otherSizes = Specs.spec(ModelSpec.newBuilder().setArchitecture("lenet").addConvFilters(4).addConvFilters(8).setDenseUnits(16).build(),
                mnist, Specs.training(2, 32));
        assertThatThrownBy(() -> new Trainer(Specs.spark(otherSizes, 1, Optional.of(checkpoints)), new TrainingEvents() {}, new StopSignal()).run())
                .isInstanceOf(dev.tranche.worker.checkpoint.CheckpointMismatchException.class)
                .hasMessage(checkpoint + "model.conv_filters: checkpoint [20, 50], experiment [4, 8]; model.dense_units: checkpoint 500, experiment 16" + advice);

        ExperimentSpec otherArchitecture = Specs.spec(ModelSpec.newBuilder().setArchitecture("vgg").build(), mnist, Specs.training(2, 32));
        assertThatThrownBy(() -> new Trainer(Specs.spark(otherArchitecture, 1, Optional.of(checkpoints)), new TrainingEvents() {}, new StopSignal()).run())
                .isInstanceOf(dev.tranche.worker.checkpoint.CheckpointMismatchException.class)
                .hasMessage(checkpoint + "model.architecture: checkpoint lenet, experiment vgg" + advice);

        ExperimentSpec otherData = Specs.spec(Specs.lenet(),
                DatasetSpec.newBuilder().setKind("image-folder").setLocation(dir.resolve("folder").toString()).setValidationFraction(0).build(), Specs.training(2, 4));
        assertThatThrownBy(() -> new Trainer(Specs.spark(otherData, 1, Optional.of(checkpoints)), new TrainingEvents() {}, new StopSignal()).run())
                .isInstanceOf(dev.tranche.worker.checkpoint.CheckpointMismatchException.class)
                .hasMessage(checkpoint + "input images: checkpoint 1x28x28, experiment's data 3x32x32; number of classes: checkpoint 10, experiment's data 3" + advice);

        // the same model resumes
        TrainingResult resumed = new Trainer(Specs.spark(trained, 1, Optional.of(checkpoints)), new TrainingEvents() {}, new StopSignal()).run();
        assertThat(resumed.resumedFromEpoch()).isEqualTo(1);
    }

    @Test
    void earlyStoppingEndsARunThatStopsImprovingAndTestsTheBestModel()
            throws IOException
    {
        Fixtures.idx(dir, 640, 100, false);
        // a learning rate far too high: after the first epoch, validation does not get better
        ExperimentSpec spec = Specs.spec(Specs.lenet(),
                DatasetSpec.newBuilder().setKind("mnist").setLocation(dir.toString()).build(),
                Specs.training(6, 32).toBuilder().setOptimizer("sgd").setLearningRate(10)
                        .setEarlyStopping(dev.tranche.proto.v1.EarlyStopping.newBuilder().setPatience(1)).build());
        List<EpochResult> epochs = new ArrayList<>();
        TrainingResult result = new Trainer(Specs.spark(spec, 2, Optional.empty()), new TrainingEvents()
        {
            @Override
            public void epoch(EpochResult r)
            {
                epochs.add(r);
            }
        }, new StopSignal()).run();
        assertThat(result.earlyStopped()).isTrue();
        assertThat(epochs.size()).isLessThan(6);
        // the documented rule: higher validation accuracy, then (a tie, as a diverged run's chance-level scores are) lower loss
        EpochResult best = epochs.stream().max(java.util.Comparator.comparingDouble(EpochResult::validationAccuracy)
                .thenComparing(java.util.Comparator.comparingDouble(EpochResult::validationLoss).reversed())).orElseThrow();
        assertThat(result.modelEpoch()).isEqualTo(best.epoch());
        assertThat(result.validationAccuracy()).isEqualTo(best.validationAccuracy());
        // it stopped one epoch (the patience) after the best one
        assertThat(epochs).hasSize(best.epoch() + 1);
    }
}
