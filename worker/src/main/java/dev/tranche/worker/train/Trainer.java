package dev.tranche.worker.train;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.spec.ExperimentSpecValidator;
import dev.tranche.worker.checkpoint.Checkpoint;
import dev.tranche.worker.checkpoint.CheckpointMismatchException;
import dev.tranche.worker.checkpoint.CheckpointStore;
import dev.tranche.worker.data.Batches;
import dev.tranche.worker.data.ImageBatch;
import dev.tranche.worker.data.Datasets;
import dev.tranche.worker.data.ImageData;
import dev.tranche.worker.model.Models;
import dev.tranche.worker.model.Net;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
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
import java.util.Locale;
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
        int patience = spec.getTraining().hasEarlyStopping() ? spec.getTraining().getEarlyStopping().getPatience() : Integer.MAX_VALUE;

        NativeBackend.enableLayerHelpers();
        Nd4j.getEnvironment().setMaxMasterThreads(options.threadsPerWorker());
        Nd4j.getEnvironment().setMaxThreads(options.threadsPerWorker());
        NativeThreads.confine(options.threadsPerWorker());

        long loadStart = System.nanoTime();
        Datasets.Split data = Datasets.load(spec.getDataset(), seed);
        Datasets.Holdout holdout = Datasets.holdOut(data.train(), spec.getDataset().getValidationFraction(), seed);
        ImageData train = holdout.train();
        ImageData validation = holdout.validation();
        ImageData test = data.test();
        events.info(String.format("data: %s, %d training, %d validation (held out of the training set) and %d test images of %dx%dx%d, %d classes (%.1f s)",
                spec.getDataset().getKind(), train.size(), validation.size(), test.size(), train.channels(), train.height(), train.width(),
                train.classes(), (System.nanoTime() - loadStart) / 1e9));

        Optional<CheckpointStore> store = options.checkpointDir().map(dir -> new CheckpointStore(dir, System.err));
        // a worker killed mid-write left a checkpoint's worth of temporary file behind
        store.ifPresent(CheckpointStore::removeStaleTemporaries);
        Optional<Checkpoint> resumed = store.flatMap(CheckpointStore::latest);
        Net net;
        int startEpoch = 0;
        int startBatch = 0;
        Optional<CheckpointStore.Best> best = Optional.empty();
        byte[] bestModel = null;
        Models.Shape shape = new Models.Shape(train.channels(), train.height(), train.width(), train.classes());
        if (resumed.isPresent()) {
            // another model or other data would train on silently as if it were this one, or fail deep in DL4J
            requireSameModel(resumed.get(), spec, shape);
            net = resumed.get().net();
            startEpoch = resumed.get().epochsDone();
            startBatch = resumed.get().batchesDone();
            events.info("resuming from checkpoint " + resumed.get().file().getFileName() + ": epoch " + startEpoch + " done"
                    + (startBatch > 0 ? ", " + startBatch + " batches into epoch " + (startEpoch + 1) : ""));
            Optional<Checkpoint> bestSoFar = store.flatMap(CheckpointStore::best).filter(b -> b.best().isPresent() && b.epochsDone() <= resumed.get().epochsDone());
            if (bestSoFar.isPresent()) {
                requireSameModel(bestSoFar.get(), spec, shape);
                best = bestSoFar.get().best();
                bestModel = bytes(bestSoFar.get().net());
            }
        }
        else {
            Nd4j.getRandom().setSeed(seed);
            net = Models.build(spec.getModel(), spec.getTraining(), shape);
        }

        int batches = Batches.batchCount(train.size(), batchSize);
        LearningRateSchedule schedule = new LearningRateSchedule(spec.getTraining().getLearningRateSchedule(), spec.getTraining().getLearningRate(),
                (long) epochs * batches);
        double rateSet = Double.NaN;
        List<EpochResult> results = new ArrayList<>();
        double trainingNanos = 0;
        long trainedImages = 0;
        boolean stopped = false;
        boolean earlyStopped = false;
        int averaging;

        try (Engine engine = engine(net, graph, train)) {
            averaging = engine.averagingFrequency();
            events.info(String.format("model: %s, %,d parameters; %s", spec.getModel().getArchitecture(), net.numParams(), engine.description()));
            // the single-process engine (and gradient sharing, which has no rounds) reports as Spark would averaging every 5 steps
            int segment = options.workers() * (averaging > 0 ? averaging : AveragingCalibration.FALLBACK_STEPS) * ROUNDS_PER_SEGMENT;
            if (best.isPresent() && startEpoch - best.get().epoch() >= patience) {
                earlyStopped = true;
            }
            for (int epoch = startEpoch; epoch < epochs && !stopped && !earlyStopped; epoch++) {
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
                    // set on the driver's network: parameter averaging hands it (configuration included) to the
                    // workers each fit; gradient sharing's workers keep their first copy, so the spec refuses cosine there
                    double learningRate = schedule.at((long) epoch * batches + from);
                    if (learningRate != rateSet) {
                        // a set walks every layer's configuration: only when the rate moves (a constant one: once)
                        engine.net().setLearningRate(learningRate);
                        rateSet = learningRate;
                    }
                    long t0 = System.nanoTime();
                    double loss = engine.fit(segmentBatches, learningRate, epoch);
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
                            learningRate, remainingImages / rate);
                    if (stop.requested() && from < batches) {
                        net = engine.net();
                        saveCheckpoint(store, net, graph, shape, epoch, from, seed);
                        stopped = true;
                        break;
                    }
                }
                if (stopped) {
                    break;
                }
                net = engine.net();
                double[] eval = validation.size() == 0 ? new double[] {Double.NaN, Double.NaN} : evaluate(net, validation);
                double seconds = (System.nanoTime() - epochStart) / 1e9;
                EpochResult result = new EpochResult(epoch + 1, epochs, lossCount == 0 ? Double.NaN : lossSum / lossCount, eval[0], eval[1],
                        seconds, epochImages / (epochTrainNanos / 1e9));
                results.add(result);
                events.epoch(result);
                // without validation images the last epoch is the best one can know of
                if (best.isEmpty() || validation.size() == 0 || better(eval[1], eval[0], best.get())) {
                    best = Optional.of(new CheckpointStore.Best(epoch + 1, eval[1], eval[0]));
                    bestModel = bytes(net);
                    saveBest(store, net, graph, shape, seed, best.get());
                }
                saveCheckpoint(store, net, graph, shape, epoch + 1, 0, seed);
                if (epoch + 1 - best.get().epoch() >= patience && epoch + 1 < epochs) {
                    earlyStopped = true;
                    events.info("early stopping after epoch " + (epoch + 1) + ": validation accuracy has not improved for " + patience
                            + (patience == 1 ? " epoch" : " epochs") + " (best " + String.format("%.4f", best.get().validationAccuracy())
                            + " after epoch " + best.get().epoch() + ")");
                }
                if (stop.requested()) {
                    stopped = epoch + 1 < epochs && !earlyStopped;
                    break;
                }
            }
        }
        double[] finalEval = {Double.NaN, Double.NaN};
        int modelEpoch = best.map(CheckpointStore.Best::epoch).orElse(startEpoch);
        if (!stopped) {
            // the test images, once, on the model handed over: the best on validation
            Net finalNet = bestModel != null ? net(bestModel, graph) : net;
            finalEval = evaluate(finalNet, test);
            events.info(String.format("final model: epoch %d%s; test accuracy %.4f, test loss %.4f on %d test images", modelEpoch,
                    best.isPresent() && validation.size() > 0 ? String.format(" (best validation accuracy %.4f)", best.get().validationAccuracy()) : "",
                    finalEval[1], finalEval[0], test.size()));
            events.test(modelEpoch, finalEval[0], finalEval[1]);
        }
        return new TrainingResult(
                options.engine() == TrainOptions.Engine.single ? "single-process" : spec.getTraining().getDataParallelism(),
                epochs,
                startEpoch,
                train.size(),
                validation.size(),
                test.size(),
                finalEval[1],
                finalEval[0],
                modelEpoch,
                best.map(CheckpointStore.Best::validationAccuracy).orElse(Double.NaN),
                earlyStopped,
                averaging,
                trainingNanos == 0 ? 0 : trainedImages / (trainingNanos / 1e9),
                trainingNanos / 1e9,
                stopped,
                results);
    }

    /** Higher validation accuracy wins; on a tie, the lower validation loss. */
    static boolean better(double accuracy, double loss, CheckpointStore.Best best)
    {
        return accuracy > best.validationAccuracy() || (accuracy == best.validationAccuracy() && loss < best.validationLoss());
    }

    private static byte[] bytes(Net net)
    {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            net.write(out);
            return out.toByteArray();
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot copy the network", e);
        }
    }

    private static Net net(byte[] model, boolean graph)
    {
        try {
            return Net.read(new java.io.ByteArrayInputStream(model), graph);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot restore the network", e);
        }
    }

    /** Refuses a checkpoint of another model than the experiment's, naming each difference. */
    private static void requireSameModel(Checkpoint checkpoint, ExperimentSpec spec, Models.Shape shape)
    {
        List<String> differences = Models.differences(checkpoint.net(), checkpoint.shape(), spec.getModel(), spec.getTraining(), shape);
        if (!differences.isEmpty()) {
            throw new CheckpointMismatchException("checkpoint " + checkpoint.file() + " holds another model than this experiment trains: "
                    + String.join("; ", differences) + ". Resume with the model and data it was trained on, or give this experiment an empty"
                    + " checkpoint directory (--checkpoint-dir, or $TRANCHE_CHECKPOINT_DIR) to train it from the start");
        }
    }

    private void saveBest(Optional<CheckpointStore> store, Net net, boolean graph, Models.Shape shape, long seed, CheckpointStore.Best best)
    {
        if (store.isEmpty()) {
            return;
        }
        try {
            store.get().saveBest(net, graph, shape, seed, best);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot write the best model to " + store.get().directory(), e);
        }
    }

    static long rngState(long seed, int epoch, int batch)
    {
        return seed * 0x9E3779B97F4A7C15L + epoch * 1_000_003L + batch;
    }

    private void saveCheckpoint(Optional<CheckpointStore> store, Net net, boolean graph, Models.Shape shape, int epochsDone, int batchesDone, long seed)
    {
        if (store.isEmpty()) {
            return;
        }
        try {
            var file = store.get().save(net, graph, shape, epochsDone, batchesDone, seed, rngState(seed, epochsDone, batchesDone));
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

    private Engine engine(Net net, boolean graph, ImageData train)
    {
        if (options.engine() == TrainOptions.Engine.single) {
            return new SingleEngine(net, options.threadsPerWorker());
        }
        return new SparkEngine(options, net, graph, train, events);
    }

    /** Trains on a list of mini-batches and hands back the (driver's) network. */
    private interface Engine
            extends AutoCloseable
    {
        /** Trains on one segment of the given epoch (from 0) at the given learning rate (already set on the network); returns the mean loss. */
        double fit(List<ImageBatch> batches, double learningRate, int epoch);

        Net net();

        /** Steps between parameter averages; 0 where nothing is averaged. */
        int averagingFrequency();

        /** How it trains, for the run's log: the engine's own choices (averaging, momentum), not the spec's. */
        String description();

        @Override
        void close();
    }

    private static final class SingleEngine
            implements Engine
    {
        private final Net net;
        private final int threads;

        SingleEngine(Net net, int threads)
        {
            this.net = net;
            this.threads = threads;
        }

        @Override
        public String description()
        {
            return "single process, " + threads + " native threads";
        }

        @Override
        public double fit(List<ImageBatch> batches, double learningRate, int epoch)
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
        public int averagingFrequency()
        {
            return 0;
        }

        @Override
        public void close() {}
    }

    private static final class SparkEngine
            implements Engine
    {
        private final JavaSparkContext sc;
        private final int workers;
        private final int averaging;
        private final SparkDl4jMultiLayer stack;
        private final SparkComputationGraph graph;
        /** Parameter averaging with several workers; none for gradient sharing (no rounds) or one worker. */
        private final Optional<BlockMomentum> blockMomentum;
        private final String description;

        SparkEngine(TrainOptions options, Net net, boolean isGraph, ImageData train, TrainingEvents events)
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
            boolean sharing = options.spec().getTraining().getDataParallelism().equals(ExperimentSpecValidator.GRADIENT_SHARING);
            String setting = options.spec().getTraining().getAveragingFrequency();
            this.blockMomentum = !sharing && workers > 1 ? Optional.of(new BlockMomentum(workers)) : Optional.empty();
            if (sharing) {
                this.averaging = 0;
            }
            else if (setting.isEmpty() || setting.equals(ExperimentSpecValidator.AUTO)) {
                AveragingCalibration.Measurement m = calibrate(options, net, isGraph, train);
                this.averaging = m.frequency();
                events.info(String.format("averaging frequency (auto): a step takes %.0f ms and an averaging round %.0f ms, so every %d steps (%s)",
                        m.stepSeconds() * 1000, m.roundSeconds() * 1000, averaging, AveragingCalibration.RULE));
            }
            else {
                this.averaging = ExperimentSpecValidator.averagingSteps(setting).orElseThrow(
                        () -> new IllegalArgumentException("training.averaging_frequency must be auto or a whole number of steps: got '" + setting + "'"));
            }
            boolean auto = setting.isEmpty() || setting.equals(ExperimentSpecValidator.AUTO);
            this.description = "Spark " + options.master() + ", " + workers + " workers x " + options.threadsPerWorker() + " native threads, "
                    + options.spec().getTraining().getDataParallelism()
                    + (averaging > 0 ? " every " + averaging + " steps" + (auto ? " (auto)" : "") : "")
                    + blockMomentum.map(momentum -> String.format(Locale.ROOT, ", block momentum %.2f", momentum.momentum())).orElse("");
            TrainingMaster<?, ?> master = sharing ? gradientSharing(options, batchSize) : averaging(options, batchSize, averaging);
            if (isGraph) {
                this.graph = new SparkComputationGraph(sc, ((Net.Graph) net).graph(), master);
                this.stack = null;
            }
            else {
                this.stack = new SparkDl4jMultiLayer(sc, ((Net.Stack) net).network(), master);
                this.graph = null;
            }
        }

        private static TrainingMaster<?, ?> averaging(TrainOptions options, int batchSize, int frequency)
        {
            return new ParameterAveragingTrainingMaster.Builder(options.workers(), batchSize)
                    .batchSizePerWorker(batchSize)
                    .averagingFrequency(frequency)
                    .workerPrefetchNumBatches(2)
                    .saveUpdater(true)
                    .repartionData(Repartition.Never)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .rngSeed(options.spec().getTraining().getSeed())
                    .collectTrainingStats(false)
                    .trainingHooks(new NativeThreads(options.threadsPerWorker()))
                    .build();
        }

        /**
         * Times averaging rounds of 1 and of {@link AveragingCalibration#LONG_ROUND} steps per worker on
         * a copy of the network (the run's own network is untouched), after
         * {@link AveragingCalibration#WARM_UP_PAIRS} pairs to warm up, {@link AveragingCalibration#TIMED_PAIRS}
         * pairs timed in turn: a round of f steps takes round + f x step.
         */
        private AveragingCalibration.Measurement calibrate(TrainOptions options, Net net, boolean isGraph, ImageData train)
        {
            int batchSize = options.spec().getTraining().getBatchSize();
            int longRound = AveragingCalibration.LONG_ROUND;
            int warmUp = AveragingCalibration.WARM_UP_PAIRS;
            int timed = AveragingCalibration.TIMED_PAIRS;
            int needed = workers * (warmUp + timed) * (1 + longRound);
            // the first batches of a fixed order: any batches time the same
            int[] order = Batches.epochOrder(train.size(), options.spec().getTraining().getSeed(), -1);
            int available = Batches.batchCount(train.size(), batchSize);
            if (available < needed) {
                return AveragingCalibration.tooLittleData();
            }
            List<ImageBatch> sample = Batches.compactBatches(train, order, batchSize, 0, needed);
            Net copy = Trainer.net(bytes(net), isGraph);
            double quickestShort = Double.MAX_VALUE;
            double quickestLong = Double.MAX_VALUE;
            int next = 0;
            TrainingMaster<?, ?> one = averaging(options, batchSize, 1);
            TrainingMaster<?, ?> many = averaging(options, batchSize, longRound);
            Fitter shortFit = isGraph ? new Fitter(null, new SparkComputationGraph(sc, ((Net.Graph) copy).graph(), one))
                    : new Fitter(new SparkDl4jMultiLayer(sc, ((Net.Stack) copy).network(), one), null);
            Fitter longFit = isGraph ? new Fitter(null, new SparkComputationGraph(sc, ((Net.Graph) copy).graph(), many))
                    : new Fitter(new SparkDl4jMultiLayer(sc, ((Net.Stack) copy).network(), many), null);
            for (int i = 0; i < warmUp + timed; i++) {
                double shortSeconds = shortFit.fit(sc, sample.subList(next, next += workers), workers);
                double longSeconds = longFit.fit(sc, sample.subList(next, next += workers * longRound), workers);
                if (i >= warmUp) {
                    // the quickest of each: a busy machine or a late compilation only ever adds time
                    quickestShort = Math.min(quickestShort, shortSeconds);
                    quickestLong = Math.min(quickestLong, longSeconds);
                }
            }
            return AveragingCalibration.choose(quickestShort, quickestLong);
        }

        /** One Spark fit, timed in seconds. */
        private record Fitter(SparkDl4jMultiLayer stack, SparkComputationGraph graph)
        {
            double fit(JavaSparkContext sc, List<ImageBatch> batches, int workers)
            {
                var rdd = sc.parallelize(batches, Math.min(workers, batches.size())).map(ImageBatch::toDataSet);
                long t0 = System.nanoTime();
                if (stack != null) {
                    stack.fit(rdd);
                }
                else {
                    graph.fit(rdd);
                }
                return (System.nanoTime() - t0) / 1e9;
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

        /** The UDP port the scheduler allocated to the gang; stand-alone, any free one (never a fixed port two runs could share). */
        private static int gradientPort()
        {
            java.util.OptionalInt allocated = dev.tranche.worker.env.WorkerEnvironment.of(System.getenv()).gradientPort();
            if (allocated.isPresent()) {
                return allocated.getAsInt();
            }
            try (java.net.DatagramSocket socket = new java.net.DatagramSocket(0)) {
                return socket.getLocalPort();
            }
            catch (java.net.SocketException e) {
                throw new IllegalStateException("no free UDP port for gradient sharing", e);
            }
        }

        private static TrainingMaster<?, ?> gradientSharing(TrainOptions options, int batchSize)
        {
            VoidConfiguration voidConfiguration = VoidConfiguration.builder()
                    .unicastPort(gradientPort())
                    .networkMask(System.getenv().getOrDefault("TRANCHE_NETWORK_MASK", "127.0.0.0/8"))
                    .controllerAddress(System.getenv().getOrDefault("TRANCHE_DRIVER_HOST", "127.0.0.1"))
                    .build();
            SharedTrainingMaster master = new SharedTrainingMaster.Builder(voidConfiguration, batchSize)
                    .thresholdAlgorithm(new AdaptiveThresholdAlgorithm(1e-3))
                    .batchSizePerWorker(batchSize)
                    .workersPerNode(1)
                    .workerPrefetchNumBatches(2)
                    .repartitionData(Repartition.Never)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .rngSeed(options.spec().getTraining().getSeed())
                    .collectTrainingStats(false)
                    .build();
            master.addHook(new NativeThreads(options.threadsPerWorker()));
            return master;
        }

        @Override
        public double fit(List<ImageBatch> batches, double learningRate, int epoch)
        {
            // raw bytes travel to the executors, which build the float batches themselves
            var rdd = sc.parallelize(batches, Math.min(workers, batches.size())).map(ImageBatch::toDataSet);
            // a copy, only where the block carries anything: the driver's network takes the workers' average in place
            Optional<BlockMomentum> carrying = blockMomentum.filter(momentum -> momentum.carries(epoch));
            INDArray before = carrying.isPresent() ? net().model().params().dup() : null;
            double score;
            if (stack != null) {
                stack.fit(rdd);
                score = stack.getScore();
            }
            else {
                graph.fit(rdd);
                score = graph.getScore();
            }
            if (carrying.isPresent()) {
                Model driver = net().model();
                driver.setParams(carrying.get().next(before, driver.params(), learningRate, epoch));
            }
            return score;
        }

        @Override
        public Net net()
        {
            return stack != null ? new Net.Stack(stack.getNetwork()) : new Net.Graph(graph.getNetwork());
        }

        @Override
        public int averagingFrequency()
        {
            return averaging;
        }

        @Override
        public String description()
        {
            return description;
        }

        @Override
        public void close()
        {
            sc.stop();
        }
    }
}
