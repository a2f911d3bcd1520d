package dev.tranche.scheduler.service;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Every bad spec is refused over real gRPC with the status and the message that names the field and
 * the rule, and leaves no row behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class InvalidSubmissionTest
{
    private TestingScheduler scheduler;
    private ManagedChannel channel;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler();
        channel = scheduler.client(TestingScheduler.ADMIN_TOKEN).channel();
    }

    @AfterAll
    void stop()
    {
        channel.shutdownNow();
        scheduler.close();
    }

    static Stream<Arguments> invalidSpecs()
    {
        return Stream.of(
                bad("empty name", s -> s.setName(""), Status.Code.INVALID_ARGUMENT, "name is required"),
                bad("name with capitals", s -> s.setName("My_Run"), Status.Code.INVALID_ARGUMENT,
                        "name must be lower-case letters, digits and '-', starting and ending with a letter or digit: got \"My_Run\""),
                bad("name too long", s -> s.setName("a".repeat(64)), Status.Code.INVALID_ARGUMENT, "name must be at most 63 characters: got 64"),
                bad("no project", s -> s.setProject(""), Status.Code.INVALID_ARGUMENT, "project is required"),
                bad("unknown project", s -> s.setProject("nope"), Status.Code.NOT_FOUND, "project nope does not exist"),
                bad("no model", ExperimentSpec.Builder::clearModel, Status.Code.INVALID_ARGUMENT, "model is required"),
                bad("unknown architecture", s -> s.setModel(s.getModel().toBuilder().setArchitecture("alexnet")), Status.Code.INVALID_ARGUMENT,
                        "model.architecture must be one of lenet, resnet, vgg: got \"alexnet\""),
                bad("lenet with three stages", s -> s.setModel(s.getModel().toBuilder().addConvFilters(64)), Status.Code.INVALID_ARGUMENT,
                        "model.conv_filters must list 2 stages for lenet: got 3"),
                bad("zero filters", s -> s.setModel(s.getModel().toBuilder().setConvFilters(1, 0)), Status.Code.INVALID_ARGUMENT,
                        "model.conv_filters[1] must be in [1, 1024]: got 0"),
                bad("dropout too high", s -> s.setModel(s.getModel().toBuilder().setDropout(0.95)), Status.Code.INVALID_ARGUMENT,
                        "model.dropout must be in [0, 0.9]: got 0.95"),
                bad("no dataset", ExperimentSpec.Builder::clearDataset, Status.Code.INVALID_ARGUMENT, "dataset is required"),
                bad("unknown dataset", s -> s.setDataset(s.getDataset().toBuilder().setKind("imagenet")), Status.Code.INVALID_ARGUMENT,
                        "dataset.kind must be one of cifar10, fashion-mnist, image-folder, mnist: got \"imagenet\""),
                bad("relative dataset path", s -> s.setDataset(s.getDataset().toBuilder().setLocation("data/fm")), Status.Code.INVALID_ARGUMENT,
                        "dataset.location must be an absolute path: got \"data/fm\""),
                bad("image folder without location", s -> s.setDataset(s.getDataset().toBuilder().setKind("image-folder").clearLocation()),
                        Status.Code.INVALID_ARGUMENT, "dataset.location is required for image-folder"),
                bad("negative limit", s -> s.setDataset(s.getDataset().toBuilder().setLimit(-1)), Status.Code.INVALID_ARGUMENT,
                        "dataset.limit must be in [0, 100000000]: got -1"),
                bad("too many epochs", s -> s.setTraining(s.getTraining().toBuilder().setEpochs(1001)), Status.Code.INVALID_ARGUMENT,
                        "training.epochs must be in [1, 1000]: got 1001"),
                bad("negative batch", s -> s.setTraining(s.getTraining().toBuilder().setBatchSize(-5)), Status.Code.INVALID_ARGUMENT,
                        "training.batch_size must be in [1, 65536]: got -5"),
                bad("unknown optimizer", s -> s.setTraining(s.getTraining().toBuilder().setOptimizer("adagrad")), Status.Code.INVALID_ARGUMENT,
                        "training.optimizer must be one of adam, nesterov, rmsprop, sgd: got \"adagrad\""),
                bad("learning rate NaN", s -> s.setTraining(s.getTraining().toBuilder().setLearningRate(Double.NaN)), Status.Code.INVALID_ARGUMENT,
                        "training.learning_rate must be in (0, 10]: got NaN"),
                bad("negative learning rate", s -> s.setTraining(s.getTraining().toBuilder().setLearningRate(-0.1)), Status.Code.INVALID_ARGUMENT,
                        "training.learning_rate must be in (0, 10]: got -0.1"),
                bad("unknown data parallelism", s -> s.setTraining(s.getTraining().toBuilder().setDataParallelism("allreduce")), Status.Code.INVALID_ARGUMENT,
                        "training.data_parallelism must be one of gradient-sharing, parameter-averaging: got \"allreduce\""),
                bad("too many replicas", s -> s.setReplicas(65), Status.Code.INVALID_ARGUMENT, "replicas must be in [1, 64]: got 65"),
                bad("negative replicas", s -> s.setReplicas(-1), Status.Code.INVALID_ARGUMENT, "replicas must be in [1, 64]: got -1"),
                bad("fraction above one", s -> gpu(s, GpuRequest.newBuilder().setFraction(1.5)), Status.Code.INVALID_ARGUMENT,
                        "resources.gpu.fraction must be in (0, 1]: got 1.5"),
                bad("fraction zero", s -> gpu(s, GpuRequest.newBuilder().setFraction(0)), Status.Code.INVALID_ARGUMENT,
                        "resources.gpu.fraction must be in (0, 1]: got 0"),
                bad("fraction finer than milli", s -> gpu(s, GpuRequest.newBuilder().setFraction(0.0005)), Status.Code.INVALID_ARGUMENT,
                        "resources.gpu.fraction must have at most 3 decimals (milli-GPUs): got 0.0005"),
                bad("too many whole GPUs", s -> gpu(s, GpuRequest.newBuilder().setCount(17)), Status.Code.INVALID_ARGUMENT,
                        "resources.gpu.count must be in [1, 16]: got 17"),
                bad("zero GPU memory", s -> gpu(s, GpuRequest.newBuilder().setMemoryMib(0)), Status.Code.INVALID_ARGUMENT,
                        "resources.gpu.memory_mib must be in [1, 1048576]: got 0"),
                bad("GPU without an amount", s -> gpu(s, GpuRequest.newBuilder().addModels("H100")), Status.Code.INVALID_ARGUMENT,
                        "resources.gpu must set one of fraction, count or memory_mib"),
                bad("repeated GPU model", s -> gpu(s, GpuRequest.newBuilder().setCount(1).addModels("H100").addModels("H100")), Status.Code.INVALID_ARGUMENT,
                        "resources.gpu.models[1] repeats \"H100\""),
                bad("negative CPU", s -> s.setResources(s.getResources().toBuilder().setCpuMilli(-1)), Status.Code.INVALID_ARGUMENT,
                        "resources.cpu_milli must be in [1, 1024000]: got -1"),
                bad("absurd memory", s -> s.setResources(s.getResources().toBuilder().setMemoryMib(1L << 40)), Status.Code.INVALID_ARGUMENT,
                        "resources.memory_mib must be in [1, 4194304]: got 1099511627776"),
                bad("unknown priority", s -> s.setPriority("urgent"), Status.Code.INVALID_ARGUMENT,
                        "priority must be one of critical, high, low, normal: got \"urgent\""),
                bad("too many retries", s -> s.setMaxRetries(11), Status.Code.INVALID_ARGUMENT, "max_retries must be in [0, 10]: got 11"),
                bad("bad label key", s -> s.putLabels("-team", "x"), Status.Code.INVALID_ARGUMENT,
                        "labels key must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric: got \"-team\""),
                bad("label value too long", s -> s.putLabels("team", "v".repeat(64)), Status.Code.INVALID_ARGUMENT,
                        "labels.team must be at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric"));
    }

    private static Arguments bad(String what, UnaryOperator<ExperimentSpec.Builder> change, Status.Code code, String message)
    {
        return arguments(what, change.apply(Specs.example().toBuilder()).build(), code, message);
    }

    private static ExperimentSpec.Builder gpu(ExperimentSpec.Builder spec, GpuRequest.Builder gpu)
    {
        return spec.setResources(spec.getResources().toBuilder().setGpu(gpu));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidSpecs")
    void refusesAndStoresNothing(String what, ExperimentSpec spec, Status.Code code, String message)
    {
        long before = scheduler.count("SELECT count(*) FROM experiments");
        assertThatThrownBy(() -> stub().submit(SubmitExperimentRequest.newBuilder().setSpec(spec).setRequestId("r-" + what.hashCode()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
        assertThat(scheduler.count("SELECT count(*) FROM experiments")).isEqualTo(before);
        assertThat(scheduler.count("SELECT count(*) FROM experiment_transitions")).isEqualTo(before);
    }

    @Test
    void tableCoversAtLeastTwentyCases()
    {
        assertThat(invalidSpecs().count()).isGreaterThanOrEqualTo(20);
    }

    @Test
    void reportsEveryViolationAtOnce()
    {
        ExperimentSpec spec = Specs.example().toBuilder().setName("").setReplicas(100).build();
        assertThatThrownBy(() -> stub().submit(SubmitExperimentRequest.newBuilder().setSpec(spec).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
                        .isEqualTo("name is required; replicas must be in [1, 64]: got 100"));
    }

    @Test
    void refusesMissingSpecAndOverlongRequestId()
    {
        assertThatThrownBy(() -> stub().submit(SubmitExperimentRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).isEqualTo("spec is required");
                });
        assertThatThrownBy(() -> stub().submit(SubmitExperimentRequest.newBuilder().setSpec(Specs.example()).setRequestId("x".repeat(129)).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("request_id must be at most 128 characters");
                });
        assertThat(scheduler.count("SELECT count(*) FROM experiments")).isZero();
    }

    private ExperimentServiceGrpc.ExperimentServiceBlockingStub stub()
    {
        return ExperimentServiceGrpc.newBlockingStub(channel);
    }
}
