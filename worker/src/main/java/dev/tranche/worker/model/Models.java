package dev.tranche.worker.model;

import dev.tranche.proto.v1.ModelSpec;
import dev.tranche.proto.v1.TrainingSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
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

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
        Object configuration = configuration(model, training, shape);
        if (configuration instanceof MultiLayerConfiguration stack) {
            MultiLayerNetwork network = new MultiLayerNetwork(stack);
            network.init();
            return new Net.Stack(network);
        }
        ComputationGraph graph = new ComputationGraph((ComputationGraphConfiguration) configuration);
        graph.init();
        return new Net.Graph(graph);
    }

    /** The network's configuration, without the parameters (a layer stack's or a graph's). */
    private static Object configuration(ModelSpec model, TrainingSpec training, Shape shape)
    {
        return switch (model.getArchitecture()) {
            case "lenet" -> lenet(model, training, shape);
            case "vgg" -> vgg(model, training, shape);
            case "resnet" -> resnet(model, training, shape);
            default -> throw new IllegalArgumentException("unknown model.architecture: " + model.getArchitecture());
        };
    }

    /**
     * How a restored network differs from the one this spec builds for these images and classes, in
     * the spec's terms (one line each: what, the restored value, the expected one); empty when it is
     * the same model. {@code restoredShape} is the images and classes the restored network was built
     * for, where known.
     */
    public static List<String> differences(Net restored, Optional<Shape> restoredShape, ModelSpec model, TrainingSpec training, Shape shape)
    {
        List<Layer> have = layers(restored);
        List<Layer> want = layers(configuration(model, training, shape));
        List<String> out = new ArrayList<>();
        String architecture = architecture(restored, have);
        if (!architecture.equals(model.getArchitecture())) {
            out.add("model.architecture: checkpoint " + architecture + ", experiment " + model.getArchitecture());
        }
        long classes = have.isEmpty() ? -1 : have.get(have.size() - 1).nOut();
        if (restoredShape.isPresent()) {
            Shape r = restoredShape.get();
            if (r.channels() != shape.channels() || r.height() != shape.height() || r.width() != shape.width()) {
                out.add("input images: checkpoint " + r.channels() + "x" + r.height() + "x" + r.width()
                        + ", experiment's data " + shape.channels() + "x" + shape.height() + "x" + shape.width());
            }
        }
        else if (!have.isEmpty() && have.get(0).nIn() != shape.channels()) {
            out.add("input channels: checkpoint " + have.get(0).nIn() + ", experiment's data " + shape.channels());
        }
        if (classes != shape.classes()) {
            out.add("number of classes: checkpoint " + classes + ", experiment's data " + shape.classes());
        }
        if (!out.isEmpty() && !architecture.equals(model.getArchitecture())) {
            // another architecture: its layers differ anyway
            return out;
        }
        List<Long> haveFilters = stages(have, "convolution");
        List<Long> wantFilters = stages(want, "convolution");
        if (!haveFilters.equals(wantFilters)) {
            out.add("model.conv_filters: checkpoint " + haveFilters + ", experiment " + wantFilters);
        }
        else if (count(have, "convolution") != count(want, "convolution")) {
            // stages of equal filters read as one, so it may be a stage more or less too
            out.add("model.blocks_per_stage (or model.conv_filters): checkpoint " + count(have, "convolution") + " convolutions, experiment "
                    + count(want, "convolution"));
        }
        List<Long> haveUnits = stages(have, "dense");
        List<Long> wantUnits = stages(want, "dense");
        if (!haveUnits.equals(wantUnits)) {
            out.add("model.dense_units: checkpoint " + join(haveUnits) + ", experiment " + join(wantUnits));
        }
        double haveDropout = have.isEmpty() ? 0 : have.get(have.size() - 1).dropout();
        double wantDropout = want.isEmpty() ? 0 : want.get(want.size() - 1).dropout();
        if (Math.abs(haveDropout - wantDropout) > 1e-9) {
            out.add("model.dropout: checkpoint " + number(haveDropout) + ", experiment " + number(wantDropout));
        }
        if (out.isEmpty() && !have.equals(want)) {
            // nothing the spec names, yet the layers differ (a checkpoint without its image size, say): the first that does
            int at = 0;
            while (at < Math.min(have.size(), want.size()) && have.get(at).equals(want.get(at))) {
                at++;
            }
            out.add(at >= Math.min(have.size(), want.size())
                    ? "number of layers: checkpoint " + have.size() + ", experiment " + want.size()
                    : "layer " + (at + 1) + ": checkpoint " + have.get(at) + ", experiment " + want.get(at));
        }
        return out;
    }

    /** One layer as the comparison sees it: its kind in words, its inputs and outputs, the dropped share. */
    private record Layer(String kind, long nIn, long nOut, double dropout)
    {
        @Override
        public String toString()
        {
            return kind + " of " + nIn + " inputs and " + nOut + " outputs";
        }
    }

    private static List<Layer> layers(Net net)
    {
        return net instanceof Net.Stack stack
                ? layers(stack.network().getLayerWiseConfigurations())
                : layers(((Net.Graph) net).graph().getConfiguration());
    }

    private static List<Layer> layers(Object configuration)
    {
        List<org.deeplearning4j.nn.conf.layers.Layer> layers = new ArrayList<>();
        if (configuration instanceof MultiLayerConfiguration stack) {
            stack.getConfs().forEach(c -> layers.add(c.getLayer()));
        }
        else {
            // in the order they were added, which a saved graph keeps
            for (GraphVertex vertex : ((ComputationGraphConfiguration) configuration).getVertices().values()) {
                if (vertex instanceof LayerVertex layer) {
                    layers.add(layer.getLayerConf().getLayer());
                }
            }
        }
        List<Layer> out = new ArrayList<>();
        for (org.deeplearning4j.nn.conf.layers.Layer layer : layers) {
            long nIn = layer instanceof FeedForwardLayer f ? f.getNIn() : 0;
            long nOut = layer instanceof FeedForwardLayer f ? f.getNOut() : 0;
            double dropout = layer.getIDropout() instanceof Dropout d ? 1.0 - d.getP() : 0;
            out.add(new Layer(kind(layer), nIn, nOut, dropout));
        }
        return out;
    }

    private static String kind(org.deeplearning4j.nn.conf.layers.Layer layer)
    {
        if (layer instanceof OutputLayer) {
            return "output";
        }
        if (layer instanceof ConvolutionLayer) {
            return "convolution";
        }
        if (layer instanceof DenseLayer) {
            return "dense";
        }
        if (layer instanceof BatchNormalization) {
            return "batch normalization";
        }
        if (layer instanceof SubsamplingLayer) {
            return "pooling";
        }
        if (layer instanceof GlobalPoolingLayer) {
            return "global pooling";
        }
        if (layer instanceof ActivationLayer) {
            return "activation";
        }
        return "other";
    }

    /** What the spec calls the restored network: a graph is a resnet, a stack with batch normalization a vgg, another stack a lenet. */
    private static String architecture(Net net, List<Layer> layers)
    {
        if (net instanceof Net.Graph) {
            return "resnet";
        }
        return layers.stream().anyMatch(l -> l.kind().equals("batch normalization")) ? "vgg" : "lenet";
    }

    /** The outputs of the layers of a kind, a run of equal ones (the blocks of a stage) once. */
    private static List<Long> stages(List<Layer> layers, String kind)
    {
        List<Long> out = new ArrayList<>();
        for (Layer layer : layers) {
            if (layer.kind().equals(kind) && (out.isEmpty() || out.get(out.size() - 1) != layer.nOut())) {
                out.add(layer.nOut());
            }
        }
        return out;
    }

    private static long count(List<Layer> layers, String kind)
    {
        return layers.stream().filter(l -> l.kind().equals(kind)).count();
    }

    private static String join(List<Long> values)
    {
        return values.size() == 1 ? values.get(0).toString() : values.toString();
    }

    private static String number(double value)
    {
        return value == Math.rint(value) ? Long.toString((long) value) : String.valueOf(Math.round(value * 1e6) / 1e6);
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

    private static MultiLayerConfiguration lenet(ModelSpec model, TrainingSpec training, Shape shape)
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
        return list.build();
    }

    private static MultiLayerConfiguration vgg(ModelSpec model, TrainingSpec training, Shape shape)
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
        return list.build();
    }

    private static ComputationGraphConfiguration resnet(ModelSpec model, TrainingSpec training, Shape shape)
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
        return g.build();
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
