package dev.tranche.scheduler.wire;

import dev.tranche.proto.v1.EarlyStopping;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.scheduler.experiment.PriorityClass;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.spec.ExperimentSpecValidator;
import dev.tranche.spec.InvalidSpecException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestExperimentSpecs
{
    private static final ExperimentSpecValidator VALIDATOR = new ExperimentSpecValidator();

    @Test
    void everyAcceptedSpecComesBackAsTheNormalizedRequest()
    {
        List<UnaryOperator<ExperimentSpec.Builder>> variations = List.of(
                spec -> spec,
                spec -> spec.setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setFraction(0.333).addModels("A100").addModels("H100"))),
                spec -> spec.setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(4))).setReplicas(8),
                spec -> spec.setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setMemoryMib(20_480))),
                spec -> spec.setResources(spec.getResources().toBuilder().clearGpu()),
                spec -> spec.putLabels("team", "vision").putLabels("sweep", "lr-3").setPriority("critical").setPreemptible(false).setMaxRetries(0),
                spec -> spec.setModel(spec.getModel().toBuilder().setArchitecture("resnet").clearConvFilters().clearDenseUnits()),
                spec -> spec.setTraining(spec.getTraining().toBuilder().setOptimizer("sgd").clearLearningRate().setAveragingFrequency("16")
                        .setEarlyStopping(EarlyStopping.newBuilder().setPatience(3))),
                spec -> spec.setDataset(spec.getDataset().toBuilder().setValidationFraction(0).setLimit(6000).setTestLimit(1000)));
        for (UnaryOperator<ExperimentSpec.Builder> variation : variations) {
            ExperimentSpec request = variation.apply(Specs.example().toBuilder()).build();
            assertThat(ExperimentSpecs.toProto(ExperimentSpecs.fromRequest(request)))
                    .as("round trip of %s", request)
                    .isEqualTo(VALIDATOR.validateAndNormalize(request));
        }
    }

    @Test
    void theDomainSpecHoldsTheSchedulingTermsTyped()
    {
        ExperimentSpec request = Specs.example().toBuilder()
                .setReplicas(2)
                .setPriority("high")
                .setResources(Specs.example().getResources().toBuilder().setGpu(GpuRequest.newBuilder().setFraction(0.25)))
                .build();
        var spec = ExperimentSpecs.fromRequest(request);
        assertThat(spec.priority()).isEqualTo(PriorityClass.HIGH);
        assertThat(spec.priority().value()).isEqualTo(75);
        assertThat(spec.resources().gpu().milli()).isEqualTo(250);
        assertThat(spec.requestedMilli()).isEqualTo(500);
        assertThat(spec.training().model().blocksPerStage()).as("lenet has no stages of blocks").isEqualTo(OptionalInt.empty());
        assertThat(spec.training().loop().earlyStoppingPatience()).isEqualTo(OptionalInt.empty());
    }

    @Test
    void aRequestIsCheckedByEveryRuleBeforeItBecomesADomainSpec()
    {
        ExperimentSpec request = Specs.example().toBuilder().setReplicas(0).setPriority("urgent").build();
        assertThatThrownBy(() -> ExperimentSpecs.fromRequest(request))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("replicas")
                .hasMessageContaining("priority");
    }

    @Test
    void aSpecStoredBeforeAFieldExistedReadsWithThatFieldsDefault()
            throws Exception
    {
        // as stored by a version without dataset.validation_fraction or training.averaging_frequency
        ExperimentSpec normalized = VALIDATOR.validateAndNormalize(Specs.example());
        ExperimentSpec old = normalized.toBuilder()
                .setDataset(normalized.getDataset().toBuilder().clearValidationFraction())
                .setTraining(normalized.getTraining().toBuilder().clearAveragingFrequency())
                .build();
        var spec = ExperimentSpecs.fromStored(old.toByteArray());
        assertThat(spec.training().dataset().validationFraction()).isEqualTo(0.1);
        assertThat(spec.training().loop().averagingFrequency()).isEqualTo("auto");
        assertThat(ExperimentSpecs.fromStored(ExperimentSpecs.toStored(spec))).isEqualTo(spec);
    }

    @Test
    void aStoredSpecIsNotRefusedByARuleMadeStricterLater()
            throws Exception
    {
        // a dense layer wider than today's limit: accepted once, must still be read (and run)
        ExperimentSpec normalized = VALIDATOR.validateAndNormalize(Specs.example());
        ExperimentSpec wide = normalized.toBuilder().setModel(normalized.getModel().toBuilder().setDenseUnits(100_000)).build();
        assertThat(VALIDATOR.validate(wide)).isNotEmpty();
        assertThat(ExperimentSpecs.fromStored(wide.toByteArray()).training().model().denseUnits()).isEqualTo(100_000);
    }

    @Test
    void theWorkerIsHandedTheSpecAsProtoJson()
    {
        String json = ExperimentSpecs.toWorkerJson(Specs.accepted("lenet", "vision"));
        assertThat(json).contains("\"project\": \"vision\"", "\"validation_fraction\": 0.1", "\"averaging_frequency\": \"auto\"");
    }
}
