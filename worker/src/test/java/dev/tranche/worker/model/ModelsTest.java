package dev.tranche.worker.model;

import dev.tranche.proto.v1.ModelSpec;
import dev.tranche.proto.v1.TrainingSpec;
import dev.tranche.worker.model.Models.Shape;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class ModelsTest
{
    private static final TrainingSpec ADAM = TrainingSpec.newBuilder().setOptimizer("adam").setLearningRate(0.01).setSeed(1).setBatchSize(8).setEpochs(1).build();

    @Test
    void lenetHasTheClassicShape()
    {
        Net net = Models.build(model("lenet", List.of(20, 50), 500, 0, 0), ADAM, new Models.Shape(1, 28, 28, 10));
        // conv 5x5x20 (520) + conv 5x5x20x50 (25,050) + dense 4*4*50 -> 500 (400,500) + 500 -> 10 (5,010)
        assertThat(net.numParams()).isEqualTo(431_080);
        assertThat(net.output(Nd4j.rand(3, 1, 28, 28)).shape()).containsExactly(3, 10);
    }

    @Test
    void sizesComeFromTheSpec()
    {
        Net small = Models.build(model("lenet", List.of(4, 8), 16, 0, 0.5), ADAM, new Models.Shape(1, 28, 28, 10));
        Net large = Models.build(model("lenet", List.of(8, 16), 32, 0, 0.5), ADAM, new Models.Shape(1, 28, 28, 10));
        assertThat(large.numParams()).isGreaterThan(small.numParams());
    }

    @Test
    void vggStopsPoolingAtOnePixel()
    {
        Net net = Models.build(model("vgg", List.of(4, 4, 4, 4, 4), 16, 1, 0.2), ADAM, new Models.Shape(1, 28, 28, 10));
        assertThat(net.output(Nd4j.rand(2, 1, 28, 28)).shape()).containsExactly(2, 10);
    }

    /** A resume compares the checkpoint's network with the spec's: the same model has no differences, another names the spec's field. */
    @Test
    void differencesNameTheSpecFieldAndTheSameModelHasNone()
            throws IOException
    {
        Shape mnist = new Models.Shape(1, 28, 28, 10);
        for (ModelSpec spec : List.of(model("lenet", List.of(4, 8), 16, 0, 0), model("vgg", List.of(4, 8), 16, 2, 0.25), model("resnet", List.of(4, 8), 16, 2, 0.5))) {
            Net net = Models.build(spec, ADAM, mnist);
            assertThat(Models.differences(net, Optional.of(mnist), spec, ADAM, mnist)).as(spec.getArchitecture()).isEmpty();
            // as a checkpoint restores it
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            net.write(out);
            Net restored = Net.read(new ByteArrayInputStream(out.toByteArray()), Models.isGraph(spec));
            assertThat(Models.differences(restored, Optional.empty(), spec, ADAM, mnist)).as(spec.getArchitecture()).isEmpty();
        }
        Net resnet = Models.build(model("resnet", List.of(4, 8), 16, 2, 0.5), ADAM, mnist);
        assertThat(Models.differences(resnet, Optional.of(mnist), model("resnet", List.of(4, 8), 16, 1, 0.5), ADAM, mnist))
                .containsExactly("model.blocks_per_stage (or model.conv_filters): checkpoint 10 convolutions, experiment 6");
        assertThat(Models.differences(resnet, Optional.of(mnist), model("resnet", List.of(4, 8, 16), 32, 2, 0), ADAM, mnist))
                .containsExactly("model.conv_filters: checkpoint [4, 8], experiment [4, 8, 16]", "model.dense_units: checkpoint 16, experiment 32",
                        "model.dropout: checkpoint 0.5, experiment 0");
        // a checkpoint without its image size: the channels still show, and the classes
        Net vgg = Models.build(model("vgg", List.of(4, 8), 16, 2, 0), ADAM, mnist);
        assertThat(Models.differences(vgg, Optional.empty(), model("vgg", List.of(4, 8), 16, 2, 0), ADAM, new Models.Shape(3, 28, 28, 4)))
                .containsExactly("input channels: checkpoint 1, experiment's data 3", "number of classes: checkpoint 10, experiment's data 4");
        // nor its other sizes: a layer that takes other inputs
        assertThat(Models.differences(vgg, Optional.empty(), model("vgg", List.of(4, 8), 16, 2, 0), ADAM, new Models.Shape(1, 32, 32, 10)))
                .containsExactly("layer 15: checkpoint dense of 392 inputs and 16 outputs, experiment dense of 512 inputs and 16 outputs");
        assertThat(Models.differences(resnet, Optional.of(mnist), model("lenet", List.of(4, 8), 16, 0, 0.5), ADAM, mnist))
                .containsExactly("model.architecture: checkpoint resnet, experiment lenet");
    }

    @Test
    void resnetIsAGraphWithResidualBlocksThatLearns()
            throws IOException
    {
        ModelSpec spec = model("resnet", List.of(4, 8), 16, 2, 0);
        assertThat(Models.isGraph(spec)).isTrue();
        Net net = Models.build(spec, ADAM, new Models.Shape(3, 16, 16, 4));
        assertThat(net).isInstanceOf(Net.Graph.class);
        assertThat(((Net.Graph) net).graph().getConfiguration().getVertices()).containsKeys("s0b0_add", "s1b0_proj", "s1b1_add");

        INDArray features = Nd4j.rand(16, 3, 16, 16);
        INDArray labels = Nd4j.zeros(16, 4);
        for (int i = 0; i < 16; i++) {
            labels.putScalar(i, i % 4, 1.0);
            features.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).addi(i % 4);
        }
        DataSet batch = new DataSet(features, labels);
        double before = net.score(batch);
        for (int i = 0; i < 10; i++) {
            net.fit(batch);
        }
        assertThat(net.score(batch)).isLessThan(before);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        net.write(out);
        Net restored = Net.read(new ByteArrayInputStream(out.toByteArray()), true);
        assertThat(restored.output(features)).isEqualTo(net.output(features));
    }

    @Test
    void everyOptimizerBuilds()
    {
        for (String optimizer : List.of("sgd", "nesterov", "adam", "rmsprop")) {
            TrainingSpec training = ADAM.toBuilder().setOptimizer(optimizer).build();
            assertThat(Models.updater(training).getClass().getSimpleName().toLowerCase()).contains(optimizer.equals("nesterov") ? "nesterovs" : optimizer);
        }
    }

    static ModelSpec model(String architecture, List<Integer> filters, int dense, int blocks, double dropout)
    {
        return ModelSpec.newBuilder().setArchitecture(architecture).addAllConvFilters(filters).setDenseUnits(dense)
                .setBlocksPerStage(blocks).setDropout(dropout).build();
    }
}
