package dev.tranche.worker.model;

import dev.tranche.proto.v1.ModelSpec;
import dev.tranche.proto.v1.TrainingSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Builds the spec's network: LeNet-5 style, a small VGG or a small ResNet. */
public final class Models
{
    private Models() {}

    /** Input images: channels x height x width, and the number of classes. */
    public record Shape(int channels, int height, int width, int classes)
    {
        public Shape
        {
            if (channels < 1 || height < 1 || width < 1 || classes < 2) {
                throw new IllegalArgumentException("bad input shape " + channels + "x" + height + "x" + width + " with " + classes + " classes");
            }
        }
    }

    public static boolean isGraph(ModelSpec model)
    {
        return model.getArchitecture().equals("resnet");
    }

    /** A fresh, initialised network for a normalized spec. */
    public static Net build(ModelSpec model, TrainingSpec training, Shape shape)
    {
        return switch (model.getArchitecture()) {
            case "lenet" -> new Net.Stack(lenet(model, training, shape));
            case "vgg" -> new Net.Stack(vgg(model, training, shape));
            case "resnet" -> new Net.Graph(resnet(model, training, shape));
            default -> throw new IllegalArgumentException("unknown model.architecture: " + model.getArchitecture());
        };
    }

    static IUpdater updater(TrainingSpec training)
    {
        double lr = training.getLearningRate();
        return switch (training.getOptimizer()) {
            case "sgd" -> new Sgd(lr);
            case "nesterov" -> new Nesterovs(lr, 0.9);
            case "adam" -> new Adam(lr);
            case "rmsprop" -> new RmsProp(lr);
            default -> throw new IllegalArgumentException("unknown training.optimizer: " + training.getOptimizer());
        };
    }

    private static NeuralNetConfiguration.Builder base(TrainingSpec training)
    {
        return new NeuralNetConfiguration.Builder()
                .seed(training.getSeed())
                .updater(updater(training))
                .weightInit(WeightInit.RELU);
    }

    /** DL4J's dropOut(x) takes the probability of keeping an input; the spec gives the dropped share. */
    private static OutputLayer output(ModelSpec model, int classes)
    {
        OutputLayer.Builder builder = new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(classes)
                .activation(Activation.SOFTMAX)
                .weightInit(WeightInit.XAVIER);
        if (model.getDropout() > 0) {
            builder.dropOut(1.0 - model.getDropout());
        }
        return builder.build();
    }

    private static MultiLayerNetwork lenet(ModelSpec model, TrainingSpec training, Shape shape)
    {
        // 5x5 convolutions without padding, as in LeNet-5: 28 -> 24 -> 12 -> 8 -> 4
        var list = base(training).convolutionMode(ConvolutionMode.Truncate).list()
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(model.getConvFilters(0)).activation(Activation.RELU).build())
                .layer(maxPool())
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(model.getConvFilters(1)).activation(Activation.RELU).build())
                .layer(maxPool())
                .layer(new DenseLayer.Builder().nOut(model.getDenseUnits()).activation(Activation.RELU).build())
                .layer(output(model, shape.classes()))
                .setInputType(InputType.convolutional(shape.height(), shape.width(), shape.channels()));
        MultiLayerNetwork network = new MultiLayerNetwork(list.build());
        network.init();
        return network;
    }

    private static MultiLayerNetwork vgg(ModelSpec model, TrainingSpec training, Shape shape)
    {
        var list = base(training).convolutionMode(ConvolutionMode.Same).list();
        int size = Math.min(shape.height(), shape.width());
        for (int filters : model.getConvFiltersList()) {
            for (int b = 0; b < model.getBlocksPerStage(); b++) {
                list.layer(new ConvolutionLayer.Builder(3, 3).nOut(filters).activation(Activation.IDENTITY).build());
                list.layer(new BatchNormalization.Builder().build());
                list.layer(new ActivationLayer.Builder().activation(Activation.RELU).build());
            }
            // stop pooling once the feature map is 1x1: five stages on 28x28 would shrink it to nothing
            if (size >= 2) {
                list.layer(maxPool());
                size /= 2;
            }
        }
        list.layer(new DenseLayer.Builder().nOut(model.getDenseUnits()).activation(Activation.RELU).build());
        list.layer(output(model, shape.classes()));
        list.setInputType(InputType.convolutional(shape.height(), shape.width(), shape.channels()));
        MultiLayerNetwork network = new MultiLayerNetwork(list.build());
        network.init();
        return network;
    }

    private static ComputationGraph resnet(ModelSpec model, TrainingSpec training, Shape shape)
    {
        ComputationGraphConfiguration.GraphBuilder g = base(training).convolutionMode(ConvolutionMode.Same).graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutional(shape.height(), shape.width(), shape.channels()));
        int first = model.getConvFilters(0);
        g.addLayer("stem_conv", conv(3, 1, first), "in");
        g.addLayer("stem_bn", new BatchNormalization.Builder().build(), "stem_conv");
        g.addLayer("stem_relu", relu(), "stem_bn");
        String previous = "stem_relu";
        int channels = first;
        int size = Math.min(shape.height(), shape.width());
        for (int stage = 0; stage < model.getConvFiltersCount(); stage++) {
            int filters = model.getConvFilters(stage);
            for (int block = 0; block < model.getBlocksPerStage(); block++) {
                // the first block of every later stage halves the map (while it can) and widens it
                int stride = stage > 0 && block == 0 && size >= 2 ? 2 : 1;
                if (stride == 2) {
                    size = (size + 1) / 2;
                }
                String p = "s" + stage + "b" + block + "_";
                g.addLayer(p + "conv1", conv(3, stride, filters), previous);
                g.addLayer(p + "bn1", new BatchNormalization.Builder().build(), p + "conv1");
                g.addLayer(p + "relu1", relu(), p + "bn1");
                g.addLayer(p + "conv2", conv(3, 1, filters), p + "relu1");
                g.addLayer(p + "bn2", new BatchNormalization.Builder().build(), p + "conv2");
                String shortcut = previous;
                if (stride != 1 || channels != filters) {
                    // a 1x1 projection where the shapes differ, identity otherwise
                    g.addLayer(p + "proj", conv(1, stride, filters), previous);
                    g.addLayer(p + "proj_bn", new BatchNormalization.Builder().build(), p + "proj");
                    shortcut = p + "proj_bn";
                }
                g.addVertex(p + "add", new ElementWiseVertex(ElementWiseVertex.Op.Add), p + "bn2", shortcut);
                g.addLayer(p + "out", relu(), p + "add");
                previous = p + "out";
                channels = filters;
            }
        }
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), previous);
        g.addLayer("dense", new DenseLayer.Builder().nOut(model.getDenseUnits()).activation(Activation.RELU).build(), "pool");
        g.addLayer("out", output(model, shape.classes()), "dense");
        g.setOutputs("out");
        ComputationGraph graph = new ComputationGraph(g.build());
        graph.init();
        return graph;
    }

    private static ConvolutionLayer conv(int kernel, int stride, int filters)
    {
        return new ConvolutionLayer.Builder(kernel, kernel).stride(stride, stride).nOut(filters)
                .activation(Activation.IDENTITY).hasBias(false).build();
    }

    private static ActivationLayer relu()
    {
        return new ActivationLayer.Builder().activation(Activation.RELU).build();
    }

    private static SubsamplingLayer maxPool()
    {
        return new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build();
    }
}
