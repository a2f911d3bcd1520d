package dev.tranche.spec;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.ResourceRequest;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class ExperimentSpecValidatorTest
{
    private final ExperimentSpecValidator validator = new ExperimentSpecValidator();

    private static ExperimentSpec example()
    {
        return ExperimentSpecFiles.read(ExperimentSpecFilesTest.EXAMPLE);
    }

    @Test
    void fillsDefaultsForWhatIsLeftOut()
    {
        ExperimentSpec minimal = ExperimentSpecFiles.parse("""
                name: minimal
                project: default
                model: {architecture: resnet}
                dataset: {kind: cifar10}
                """, "minimal");
        ExperimentSpec normalized = validator.validateAndNormalize(minimal);
        assertThat(normalized.getReplicas()).isEqualTo(1);
        assertThat(normalized.getPriority()).isEqualTo("normal");
        assertThat(normalized.getPreemptible()).isTrue();
        assertThat(normalized.getMaxRetries()).isEqualTo(2);
        assertThat(normalized.getModel().getConvFiltersList()).containsExactly(16, 32, 64);
        assertThat(normalized.getModel().getBlocksPerStage()).isEqualTo(2);
        assertThat(normalized.getModel().getDenseUnits()).isEqualTo(256);
        assertThat(normalized.getTraining().getEpochs()).isEqualTo(10);
        assertThat(normalized.getTraining().getBatchSize()).isEqualTo(64);
        assertThat(normalized.getTraining().getOptimizer()).isEqualTo("adam");
        assertThat(normalized.getTraining().getLearningRate()).isEqualTo(0.001);
        assertThat(normalized.getTraining().getDataParallelism()).isEqualTo("parameter-averaging");
        assertThat(normalized.getTraining().getAveragingFrequency()).isEqualTo("auto");
        assertThat(normalized.getTraining().hasEarlyStopping()).isFalse();
        assertThat(normalized.getDataset().getValidationFraction()).isEqualTo(0.1);
        assertThat(normalized.getResources().getCpuMilli()).isEqualTo(1000);
        assertThat(normalized.getResources().getMemoryMib()).isEqualTo(2048);
        assertThat(normalized.getResources().hasGpu()).isFalse();
    }

    @Test
    void zeroIsRefusedWhereItMeansNothingInsteadOfBecomingTheDefault()
    {
        String base = """
                name: zero
                project: default
                model: {architecture: resnet%s}
                dataset: {kind: cifar10}
                """;
        for (String[] zero : new String[][] {
                {"training: {epochs: 0}", "training.epochs must be in [1, 1000]: got 0 (leave it out for the default, 10)"},
                {"training: {batch_size: 0}", "training.batch_size must be in [1, 65536]: got 0 (leave it out for the default, 64)"},
                {"training: {learning_rate: 0}", "training.learning_rate must be in (0, 10]: got 0 (leave it out for the optimizer's default"},
                {"replicas: 0", "replicas must be in [1, 64]: got 0 (leave it out for the default, 1)"},
                {"resources: {cpu_milli: 0}", "resources.cpu_milli must be in [1, 1024000]: got 0 (leave it out for the default, 1000)"},
                {"resources: {memory_mib: 0}", "resources.memory_mib must be in [1, 4194304]: got 0 (leave it out for the default, 2048)"}}) {
            ExperimentSpec spec = ExperimentSpecFiles.parse(base.formatted("") + zero[0] + "\n", "zero");
            assertThatThrownBy(() -> validator.validateAndNormalize(spec)).as(zero[0]).isInstanceOf(InvalidSpecException.class).hasMessageContaining(zero[1]);
        }
        for (String[] zero : new String[][] {
                {", dense_units: 0", "model.dense_units must be in [1, 8192]: got 0 (leave it out for the default, 256)"},
                {", blocks_per_stage: 0", "model.blocks_per_stage must be in [1, 8]: got 0 (leave it out for the default, 2)"}}) {
            ExperimentSpec spec = ExperimentSpecFiles.parse(base.formatted(zero[0]), "zero");
            assertThatThrownBy(() -> validator.validateAndNormalize(spec)).as(zero[0]).isInstanceOf(InvalidSpecException.class).hasMessageContaining(zero[1]);
        }
        // where zero has a meaning it stays: no dropout, seed 0, all images, no retries
        ExperimentSpec normalized = validator.validateAndNormalize(ExperimentSpecFiles.parse("""
                name: zero
                project: default
                model: {architecture: resnet, dropout: 0}
                dataset: {kind: cifar10, limit: 0, test_limit: 0}
                training: {seed: 0}
                max_retries: 0
                """, "zero"));
        assertThat(normalized.getModel().getDropout()).isZero();
        assertThat(normalized.getTraining().getSeed()).isZero();
        assertThat(normalized.getDataset().getLimit()).isZero();
        assertThat(normalized.getMaxRetries()).isZero();
    }

    @Test
    void validationAveragingAndEarlyStoppingSettingsAreCheckedWithTheirFieldPaths()
    {
        ExperimentSpec good = validator.validateAndNormalize(ExperimentSpecFiles.parse("""
                name: tuned
                project: default
                model: {architecture: lenet}
                dataset: {kind: mnist, validation_fraction: 0}
                training: {averaging_frequency: 20, early_stopping: {patience: 2}}
                """, "tuned"));
        assertThat(good.getTraining().getAveragingFrequency()).isEqualTo("20");
        assertThat(good.getTraining().getEarlyStopping().getPatience()).isEqualTo(2);
        assertThat(good.getTraining().getLearningRateSchedule()).as("the default schedule").isEqualTo("cosine");
        ExperimentSpec sharing = validator.validateAndNormalize(ExperimentSpecFiles.parse("""
                name: shared
                project: default
                model: {architecture: lenet}
                dataset: {kind: mnist}
                training: {data_parallelism: gradient-sharing}
                """, "shared"));
        assertThat(sharing.getTraining().getLearningRateSchedule()).as("gradient sharing's workers keep their first rate").isEqualTo("constant");
        assertThat(good.getDataset().hasValidationFraction()).isTrue();
        assertThat(good.getDataset().getValidationFraction()).isZero();
        for (String[] bad : new String[][] {
                {"dataset: {kind: mnist, validation_fraction: 10}", "dataset.validation_fraction must be in [0, 0.5] (the share of training images held out for validation): got 10; write a share, e.g. 0.1 for 10%"},
                {"dataset: {kind: mnist, validation_fraction: -0.1}", "dataset.validation_fraction must be in [0, 0.5]"},
                {"dataset: {kind: mnist}\ntraining: {averaging_frequency: 0}", "training.averaging_frequency must be auto or a whole number of steps from 1 to 10000: got \"0\""},
                {"dataset: {kind: mnist}\ntraining: {averaging_frequency: sometimes}", "training.averaging_frequency must be auto or a whole number"},
                {"dataset: {kind: mnist}\ntraining: {early_stopping: {patience: 0}}", "training.early_stopping.patience"},
                {"dataset: {kind: mnist}\ntraining: {learning_rate_schedule: step}", "training.learning_rate_schedule must be one of constant, cosine: got \"step\""},
                {"dataset: {kind: mnist}\ntraining: {learning_rate_schedule: cosine, data_parallelism: gradient-sharing}",
                        "training.learning_rate_schedule cosine needs data_parallelism parameter-averaging: with gradient-sharing each worker keeps the rate it "
                                + "started with; use constant, or parameter-averaging"}}) {
            ExperimentSpec spec = ExperimentSpecFiles.parse("name: bad\nproject: default\nmodel: {architecture: lenet}\n" + bad[0] + "\n", "bad");
            assertThatThrownBy(() -> validator.validateAndNormalize(spec)).as(bad[0]).isInstanceOf(InvalidSpecException.class).hasMessageContaining(bad[1]);
        }
    }

    @Test
    void keepsWhatTheUserSaid()
    {
        ExperimentSpec spec = example().toBuilder().setPreemptible(false).setMaxRetries(0).build();
        ExperimentSpec normalized = validator.validateAndNormalize(spec);
        assertThat(normalized.getPreemptible()).isFalse();
        assertThat(normalized.getMaxRetries()).isZero();
        assertThat(normalized.getModel()).isEqualTo(spec.getModel());
    }

    @Test
    void listsEveryViolationInFieldOrder()
    {
        ExperimentSpec spec = example().toBuilder()
                .setName("")
                .setResources(ResourceRequest.newBuilder().setGpu(GpuRequest.newBuilder().setFraction(1.5)))
                .setPriority("urgent")
                .build();
        assertThatThrownBy(() -> validator.validateAndNormalize(spec))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> {
                    assertThat(e.violations()).extracting(Violation::field).containsExactly("name", "resources.gpu.fraction", "priority");
                    assertThat(e.getMessage()).isEqualTo("name is required; resources.gpu.fraction must be in (0, 1]: got 1.5; "
                            + "priority must be one of critical, high, low, normal: got \"urgent\"");
                });
    }

    @Test
    void cutsHugeValuesShortInMessages()
    {
        ExperimentSpec spec = example().toBuilder().setPriority("x".repeat(10_000)).build();
        assertThat(validator.validate(spec)).singleElement().satisfies(violation -> assertThat(violation.message()).hasSizeLessThan(200));
    }

    @Test
    void refusesOversizedSpecs()
    {
        ExperimentSpec spec = example().toBuilder().setDataset(example().getDataset().toBuilder().setLocation("/" + "a".repeat(70_000))).build();
        assertThat(validator.validate(spec)).singleElement().satisfies(violation -> {
            assertThat(violation.field()).isEqualTo("spec");
            assertThat(violation.message()).startsWith("must be at most 65536 bytes");
        });
    }

    @Property
    void milliGpuFractionsAreAcceptedAndFinerOnesRefused(@ForAll("milli") int milli)
    {
        ExperimentSpec spec = withGpu(GpuRequest.newBuilder().setFraction(milli / 1000.0));
        assertThat(validator.validate(spec)).isEmpty();
        ExperimentSpec finer = withGpu(GpuRequest.newBuilder().setFraction(milli / 1000.0 - 0.0004));
        assertThat(validator.validate(finer)).isNotEmpty();
    }

    @Property
    void normalizingIsIdempotentAndKeepsSpecsValid(@ForAll("validSpecs") ExperimentSpec spec)
    {
        assertThat(validator.validate(spec)).isEmpty();
        ExperimentSpec normalized = validator.normalize(spec);
        assertThat(validator.validate(normalized)).isEmpty();
        assertThat(validator.normalize(normalized)).isEqualTo(normalized);
    }

    @Provide
    Arbitrary<Integer> milli()
    {
        return Arbitraries.integers().between(1, 1000);
    }

    @Provide
    Arbitrary<ExperimentSpec> validSpecs()
    {
        Arbitrary<GpuRequest> gpu = Arbitraries.oneOf(
                Arbitraries.integers().between(1, 1000).map(m -> GpuRequest.newBuilder().setFraction(m / 1000.0).build()),
                Arbitraries.integers().between(1, 16).map(n -> GpuRequest.newBuilder().setCount(n).build()),
                Arbitraries.longs().between(1, 1_048_576).map(mib -> GpuRequest.newBuilder().setMemoryMib(mib).build()));
        return Combinators.combine(
                        Arbitraries.of("lenet", "vgg", "resnet"),
                        Arbitraries.integers().between(0, 64),
                        Arbitraries.integers().between(0, 1000),
                        Arbitraries.of("", "low", "normal", "high", "critical"),
                        gpu)
                .as((architecture, replicas, epochs, priority, request) -> {
                    // 0 stands for "left out"
                    ExperimentSpec base = example();
                    ExperimentSpec.Builder spec = base.toBuilder()
                            .setModel(base.getModel().toBuilder().setArchitecture(architecture).clearConvFilters().clearDenseUnits())
                            .setReplicas(replicas)
                            .setTraining(base.getTraining().toBuilder().setEpochs(epochs))
                            .setPriority(priority)
                            .setResources(base.getResources().toBuilder().setGpu(request));
                    if (replicas == 0) {
                        spec.clearReplicas();
                    }
                    if (epochs == 0) {
                        spec.getTrainingBuilder().clearEpochs();
                    }
                    return spec.build();
                });
    }

    private static ExperimentSpec withGpu(GpuRequest.Builder gpu)
    {
        ExperimentSpec base = example();
        return base.toBuilder().setResources(base.getResources().toBuilder().setGpu(gpu)).build();
    }
}
