package dev.tranche.worker.model;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import static java.util.Objects.requireNonNull;

/**
 * A trainable network: DL4J has two unrelated classes (a layer stack and a graph, which residual
 * blocks need); this gives the trainer one face for both.
 */
public sealed interface Net
        permits Net.Stack, Net.Graph
{
    Model model();

    INDArray output(INDArray features);

    double score(DataSet batch);

    void fit(DataSet batch);

    long numParams();

    /** Sets every layer's learning rate (the updater's state, e.g. Adam's moments, is kept). */
    void setLearningRate(double learningRate);

    default void write(OutputStream out)
            throws IOException
    {
        ModelSerializer.writeModel(model(), out, true);
    }

    static Net read(InputStream in, boolean graph)
            throws IOException
    {
        return graph
                ? new Graph(ModelSerializer.restoreComputationGraph(in, true))
                : new Stack(ModelSerializer.restoreMultiLayerNetwork(in, true));
    }

    record Stack(MultiLayerNetwork network)
            implements Net
    {
        public Stack
        {
            requireNonNull(network, "network is null");
        }

        @Override
        public Model model()
        {
            return network;
        }

        @Override
        public INDArray output(INDArray features)
        {
            return network.output(features, false);
        }

        @Override
        public double score(DataSet batch)
        {
            return network.score(batch, false);
        }

        @Override
        public void fit(DataSet batch)
        {
            network.fit(batch);
        }

        @Override
        public long numParams()
        {
            return network.numParams();
        }

        @Override
        public void setLearningRate(double learningRate)
        {
            network.setLearningRate(learningRate);
        }
    }

    record Graph(ComputationGraph graph)
            implements Net
    {
        public Graph
        {
            requireNonNull(graph, "graph is null");
        }

        @Override
        public Model model()
        {
            return graph;
        }

        @Override
        public INDArray output(INDArray features)
        {
            return graph.outputSingle(false, features);
        }

        @Override
        public double score(DataSet batch)
        {
            return graph.score(batch, false);
        }

        @Override
        public void fit(DataSet batch)
        {
            graph.fit(batch);
        }

        @Override
        public long numParams()
        {
            return graph.numParams();
        }

        @Override
        public void setLearningRate(double learningRate)
        {
            graph.setLearningRate(learningRate);
        }
    }
}
