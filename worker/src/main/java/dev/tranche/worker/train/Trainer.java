package dev.tranche.worker.train;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.worker.checkpoint.Checkpoint;
import dev.tranche.worker.checkpoint.CheckpointStore;
import dev.tranche.worker.cluster.ArrayKryoRegistrator;
import dev.tranche.worker.data.Batches;
import dev.tranche.worker.data.ImageBatch;
import dev.tranche.worker.data.Datasets;
import dev.tranche.worker.data.ImageData;
import dev.tranche.worker.model.Models;
import dev.tranche.worker.model.Net;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.AdaptiveThresholdAlgorithm;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Trains one experiment. The epoch is cut into segments of a few averaging rounds; after each the
 * driver reports progress and checks for a stop request, so a SIGTERM costs at most one segment.
 * Evaluation runs on the driver's copy of the network (not Spark's evaluate, which the team found
 * unreliable on this stack).
 */
public final class Trainer
{
    /** Averaging rounds per segment: long enough to hide Spark's per-job cost, short enough to report often. */
    private static final int ROUNDS_PER_SEGMENT = 4;
    private static final int EVAL_BATCH = 500;

    private final TrainOptions options;
    private final TrainingEvents events;
    private final StopSignal stop;

    public Trainer(TrainOptions options, TrainingEvents events, StopSignal stop)
    {
        this.options = requireNonNull(options, "options is null");
        this.events = requireNonNull(events, "events is null");
        this.stop = requireNonNull(stop, "stop is null");
    }

    public TrainingResult run()
    {
        ExperimentSpec spec = options.spec();
        long seed = spec.getTraining().getSeed();
        int epochs = spec.getTraining().getEpochs();
        int batchSize = spec.getTraining().getBatchSize();
        boolean graph = Models.isGraph(spec.getModel());

        NativeBackend.enableLayerHelpers();
        Nd4j.getEnvironment().setMaxMasterThreads(options.threadsPerWorker());
        Nd4j.getEnvironment().setMaxThreads(options.threadsPerWorker());

        long loadStart = System.nanoTime();
        Datasets.Split data = Datasets.load(spec.getDataset(), seed);
        ImageData train = data.train();
        ImageData test = data.test();
        events.info(String.format("data: %s, %d training and %d test images of %dx%dx%d, %d classes (%.1f s)",
                spec.getDataset().getKind(), train.size(), test.size(), train.channels(), train.height(), train.width(),
                train.classes(), (System.nanoTime() - loadStart) / 1e9));

        Optional<CheckpointStore> store = options.checkpointDir().map(dir -> new CheckpointStore(dir, System.err));
        Optional<Checkpoint> resumed = store.flatMap(CheckpointStore::latest);
        Net net;
        int startEpoch = 0;
        int startBatch = 0;
        if (resumed.isPresent()) {
            net = resumed.get().net();
            startEpoch = resumed.get().epochsDone();
            startBatch = resumed.get().batchesDone();
            events.info("resuming from checkpoint " + resumed.get().file().getFileName() + ": epoch " + startEpoch + " done"
                    + (startBatch > 0 ? ", " + startBatch + " batches into epoch " + (startEpoch + 1) : ""));
        }
        else {
            Nd4j.getRandom().setSeed(seed);
            net = Models.build(spec.getModel(), spec.getTraining(), new Models.Shape(train.channels(), train.height(), train.width(), train.classes()));
        }
        events.info(String.format("model: %s, %,d parameters; %s", spec.getModel().getArchitecture(), net.numParams(), describeEngine()));

        int batches = Batches.batchCount(train.size(), batchSize);
        // the single-process engine reports at the same points as Spark would with as many workers
        int segment = options.workers() * options.averagingFrequency() * ROUNDS_PER_SEGMENT;
        List<EpochResult> results = new ArrayList<>();
        double trainingNanos = 0;
        long trainedImages = 0;
        boolean stopped = false;

        try (Engine engine = engine(net, graph)) {
            for (int epoch = startEpoch; epoch < epochs && !stopped; epoch++) {
                int[] order = Batches.epochOrder(train.size(), seed, epoch);
                long epochStart = System.nanoTime();
                double epochTrainNanos = 0;
                long epochImages = 0;
                double lossSum = 0;
                int lossCount = 0;
                int from = epoch == startEpoch ? startBatch : 0;
                while (from < batches) {
                    int to = Math.min(batches, from + segment);
                    List<ImageBatch> segmentBatches = Batches.compactBatches(train, order, batchSize, from, to);
                    long images = segmentBatches.stream().mapToLong(ImageBatch::size).sum();
                    // dropout and any other randomness: a stream per position, so a resumed run draws the same
                    Nd4j.getRandom().setSeed(rngState(seed, epoch, from));
                    long t0 = System.nanoTime();
                    double loss = engine.fit(segmentBatches);
                    long nanos = System.nanoTime() - t0;
                    trainingNanos += nanos;
                    epochTrainNanos += nanos;
                    trainedImages += images;
                    epochImages += images;
                    lossSum += loss;
                    lossCount++;
                    from = to;
                    double rate = epochImages / (epochTrainNanos / 1e9);
                    long remainingImages = (long) (batches - from) * batchSize + (long) (epochs - epoch - 1) * train.size();
                    events.step(epoch + 1, epochs, from, batches, (long) epoch * batches + from, loss, rate,
                            spec.getTraining().getLearningRate(), remainingImages / rate);
                    if (stop.requested() && from < batches) {
                        net = engine.net();
                        saveCheckpoint(store, net, graph, epoch, from, seed);
                        stopped = true;
                        break;
                    }
                }
                if (stopped) {
                    break;
                }
                net = engine.net();
                double[] eval = evaluate(net, test);
                double seconds = (System.nanoTime() - epochStart) / 1e9;
                EpochResult result = new EpochResult(epoch + 1, epochs, lossCount == 0 ? Double.NaN : lossSum / lossCount, eval[0], eval[1],
                        seconds, epochImages / (epochTrainNanos / 1e9));
                results.add(result);
                events.epoch(result);
                saveCheckpoint(store, net, graph, epoch + 1, 0, seed);
                if (stop.requested()) {
                    stopped = epoch + 1 < epochs;
                    break;
                }
            }
        }
        EpochResult last = results.isEmpty() ? null : results.get(results.size() - 1);
        double[] finalEval = last == null ? evaluate(net, test) : new double[] {last.testLoss(), last.testAccuracy()};
        return new TrainingResult(
                options.engine() == TrainOptions.Engine.single ? "single-process" : spec.getTraining().getDataParallelism(),
                epochs,
                startEpoch,
                train.size(),
                test.size(),
                finalEval[1],
                finalEval[0],
                trainingNanos == 0 ? 0 : trainedImages / (trainingNanos / 1e9),
                trainingNanos / 1e9,
                stopped,
                results);
    }

    static long rngState(long seed, int epoch, int batch)
    {
        return seed * 0x9E3779B97F4A7C15L + epoch * 1_000_003L + batch;
    }

    private void saveCheckpoint(Optional<CheckpointStore> store, Net net, boolean graph, int epochsDone, int batchesDone, long seed)
    {
        if (store.isEmpty()) {
            return;
        }
        try {
            var file = store.get().save(net, graph, epochsDone, batchesDone, seed, rngState(seed, epochsDone, batchesDone));
            events.info("checkpoint " + file);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot write a checkpoint to " + store.get().directory(), e);
        }
    }

    /** Test loss and accuracy of the driver's network, in batches. */
    static double[] evaluate(Net net, ImageData test)
    {
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < test.size(); start += EVAL_BATCH) {
            int end = Math.min(test.size(), start + EVAL_BATCH);
            DataSet batch = Batches.batch(test, null, start, end);
            INDArray predicted = net.output(batch.getFeatures()).argMax(1);
            INDArray actual = batch.getLabels().argMax(1);
            correct += predicted.eq(actual).castTo(org.nd4j.linalg.api.buffer.DataType.INT).sumNumber().longValue();
            lossSum += net.score(batch) * (end - start);
        }
        return new double[] {lossSum / test.size(), (double) correct / test.size()};
    }

    private String describeEngine()
    {
        if (options.engine() == TrainOptions.Engine.single) {
            return "single process, " + options.threadsPerWorker() + " native threads";
        }
        return "Spark " + options.master() + ", " + options.workers() + " workers x " + options.threadsPerWorker() + " native threads, "
                + options.spec().getTraining().getDataParallelism()
                + (options.spec().getTraining().getDataParallelism().equals("parameter-averaging") ? " every " + options.averagingFrequency() + " steps" : "");
    }

    private Engine engine(Net net, boolean graph)
    {
        if (options.engine() == TrainOptions.Engine.single) {
            return new SingleEngine(net);
        }
        return new SparkEngine(options, net, graph);
    }

    /** Trains on a list of mini-batches and hands back the (driver's) network. */
    private interface Engine
            extends AutoCloseable
    {
        /** Trains on the batches and returns the mean loss. */
        double fit(List<ImageBatch> batches);

        Net net();

        @Override
        void close();
    }

    private static final class SingleEngine
            implements Engine
    {
        private final Net net;

        SingleEngine(Net net)
        {
            this.net = net;
        }

        @Override
        public double fit(List<ImageBatch> batches)
        {
            double sum = 0;
            for (ImageBatch batch : batches) {
                net.fit(batch.toDataSet());
                sum += net.model().score();
            }
            return sum / batches.size();
        }

        @Override
        public Net net()
        {
            return net;
        }

        @Override
        public void close() {}
    }

    private static final class SparkEngine
            implements Engine
    {
        private final JavaSparkContext sc;
        private final int workers;
        private final SparkDl4jMultiLayer stack;
        private final SparkComputationGraph graph;

        SparkEngine(TrainOptions options, Net net, boolean isGraph)
        {
            this.workers = options.workers();
            SparkConf conf = new SparkConf()
                    .setMaster(options.master())
                    .setAppName("tranche-" + options.spec().getName())
                    .set("spark.ui.enabled", "false")
                    .set("spark.driver.host", System.getenv().getOrDefault("TRANCHE_DRIVER_HOST", "127.0.0.1"))
                    .set("spark.driver.bindAddress", System.getenv().getOrDefault("TRANCHE_DRIVER_BIND", "127.0.0.1"))
                    .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                    .set("spark.kryo.registrator", ArrayKryoRegistrator.class.getName())
                    .set("spark.locality.wait", "0");
            options.sparkConf().forEach(conf::set);
            this.sc = new JavaSparkContext(conf);
            awaitExecutors(sc, options.expectedExecutors());
            int batchSize = options.spec().getTraining().getBatchSize();
            TrainingMaster<?, ?> master = options.spec().getTraining().getDataParallelism().equals("gradient-sharing")
                    ? gradientSharing(options, batchSize)
                    : new ParameterAveragingTrainingMaster.Builder(workers, batchSize)
                            .batchSizePerWorker(batchSize)
                            .averagingFrequency(options.averagingFrequency())
                            .workerPrefetchNumBatches(2)
                            .saveUpdater(true)
                            .repartionData(Repartition.Never)
                            .rddTrainingApproach(RDDTrainingApproach.Direct)
                            .rngSeed(options.spec().getTraining().getSeed())
                            .collectTrainingStats(false)
                            .build();
            if (isGraph) {
                this.graph = new SparkComputationGraph(sc, ((Net.Graph) net).graph(), master);
                this.stack = null;
            }
            else {
                this.stack = new SparkDl4jMultiLayer(sc, ((Net.Stack) net).network(), master);
                this.graph = null;
            }
        }

        /** In a standalone gang, training starts once every replica's executor has joined. */
        private static void awaitExecutors(JavaSparkContext sc, int expected)
        {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
            // the driver counts as one entry in the status tracker
            while (sc.sc().statusTracker().getExecutorInfos().length - 1 < expected) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + (sc.sc().statusTracker().getExecutorInfos().length - 1) + " of " + expected
                            + " executors joined within 5 minutes; are all replicas running and able to reach the master?");
                }
                try {
                    Thread.sleep(200);
                }
                catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for executors", e);
                }
            }
        }

        private static TrainingMaster<?, ?> gradientSharing(TrainOptions options, int batchSize)
        {
            VoidConfiguration voidConfiguration = VoidConfiguration.builder()
                    .unicastPort(Integer.parseInt(System.getenv().getOrDefault("TRANCHE_GRADIENT_PORT", "40123")))
                    .networkMask(System.getenv().getOrDefault("TRANCHE_NETWORK_MASK", "127.0.0.0/8"))
                    .controllerAddress(System.getenv().getOrDefault("TRANCHE_DRIVER_HOST", "127.0.0.1"))
                    .build();
            return new SharedTrainingMaster.Builder(voidConfiguration, batchSize)
                    .thresholdAlgorithm(new AdaptiveThresholdAlgorithm(1e-3))
                    .batchSizePerWorker(batchSize)
                    .workersPerNode(1)
                    .workerPrefetchNumBatches(2)
                    .repartitionData(Repartition.Never)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .rngSeed(options.spec().getTraining().getSeed())
                    .collectTrainingStats(false)
                    .build();
        }

        @Override
        public double fit(List<ImageBatch> batches)
        {
            // raw bytes travel to the executors, which build the float batches themselves
            var rdd = sc.parallelize(batches, Math.min(workers, batches.size())).map(ImageBatch::toDataSet);
            if (stack != null) {
                stack.fit(rdd);
                return stack.getScore();
            }
            graph.fit(rdd);
            return graph.getScore();
        }

        @Override
        public Net net()
        {
            return stack != null ? new Net.Stack(stack.getNetwork()) : new Net.Graph(graph.getNetwork());
        }

        @Override
        public void close()
        {
            sc.stop();
        }
    }
}
