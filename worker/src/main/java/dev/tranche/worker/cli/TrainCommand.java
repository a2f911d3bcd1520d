package dev.tranche.worker.cli;

import com.google.gson.GsonBuilder;
import dev.tranche.cli.OutputFormat;
import dev.tranche.files.TempDirectories;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.spec.ExperimentSpecFiles;
import dev.tranche.spec.ExperimentSpecValidator;
import dev.tranche.worker.cluster.Gang;
import dev.tranche.worker.cluster.LocalGang;
import dev.tranche.worker.cluster.SparkHome;
import dev.tranche.worker.env.WorkerEnvironment;
import dev.tranche.worker.metrics.MetricsClient;
import dev.tranche.worker.metrics.MetricsClientConfig;
import dev.tranche.worker.metrics.SchedulerChannel;
import dev.tranche.worker.train.EpochResult;
import io.grpc.ManagedChannel;
import dev.tranche.worker.train.StopSignal;
import dev.tranche.worker.train.TrainOptions;
import dev.tranche.worker.train.Trainer;
import dev.tranche.worker.train.TrainingEvents;
import dev.tranche.worker.train.TrainingResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "train", description = {
        "Train one experiment here, stand-alone, without a scheduler: Spark local[k] in this process.",
        "Progress goes to stdout (table) or stderr (json); with -o json stdout ends with one result object."})
class TrainCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--file"}, paramLabel = "SPEC", description = "The experiment spec, e.g. docs/examples/fashion-mnist-lenet.yaml.")
    Path file;

    @Option(names = "--epochs", paramLabel = "N", description = "Override training.epochs.")
    Integer epochs;

    @Option(names = "--limit", paramLabel = "N", description = "Override dataset.limit: train on the first N images (0 = all).")
    Integer limit;

    @Option(names = "--test-limit", paramLabel = "N", description = "Override dataset.test_limit (0 = all).")
    Integer testLimit;

    @Option(names = "--data-parallelism", paramLabel = "MODE", description = "Override training.data_parallelism: parameter-averaging or gradient-sharing.")
    String dataParallelism;

    @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT", description = "table or json (default: ${DEFAULT-VALUE}).")
    OutputFormat output;

    @Option(names = "--workers", paramLabel = "K", description = "Spark workers, local[K] (default: the cores this process may use).")
    Integer workers;

    @Option(names = "--threads-per-worker", paramLabel = "T", description = "Native threads per worker (default: cores / workers, at least 1).")
    Integer threadsPerWorker;

    @Option(names = "--engine", defaultValue = "spark", paramLabel = "ENGINE",
            description = "spark (data-parallel, default) or single (one DL4J network, no Spark: the benchmark's baseline).")
    TrainOptions.Engine engine;

    @Option(names = "--averaging-frequency", paramLabel = "STEPS",
            description = "Override training.averaging_frequency: steps between parameter averages, or auto (the default: chosen from a measured step and averaging round).")
    String averagingFrequency;

    @Option(names = "--validation-fraction", paramLabel = "F", description = "Override dataset.validation_fraction: share of the training images held out for validation (default 0.1).")
    Double validationFraction;

    @Option(names = "--seeds", split = ",", paramLabel = "SEED",
            description = "Train once per seed (overriding training.seed), one after another, and report each seed's and the mean and standard deviation of the test accuracy, e.g. --seeds 1,2,3.")
    List<Long> seeds;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: local[K]).")
    String master;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "Checkpoint after every epoch (and on SIGTERM) here; resume from the newest one found (default: $TRANCHE_CHECKPOINT_DIR; none when unset).")
    Path checkpointDir;

    @Option(names = "--replicas", defaultValue = "1", paramLabel = "N",
            description = "Run N replicas as local processes forming one Spark standalone cluster: this one is rank 0 (master and driver), the others run executors (default: ${DEFAULT-VALUE}: Spark local[K] in this process).")
    int replicas;

    @Option(names = "--metrics-server", paramLabel = "HOST:PORT",
            description = "Send metrics to this MetricsService (default: $TRANCHE_SCHEDULER_ADDRESS; none when unset).")
    String metricsServer;

    @Option(names = "--grace-seconds", defaultValue = "30", paramLabel = "S", description = "How long a SIGTERM may take to checkpoint (default: ${DEFAULT-VALUE}).")
    int graceSeconds;

    /** The replica's environment, as the execution backend sets it; none for a stand-alone run. */
    WorkerEnvironment environment()
    {
        return WorkerEnvironment.of(System.getenv());
    }

    @Override
    public Integer call()
            throws Exception
    {
        WorkerEnvironment environment = environment();
        if (environment.worldSize() > 1 && environment.rank() > 0) {
            return executorHost(environment);
        }
        if (file == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--file=SPEC'");
        }
        if (checkpointDir == null) {
            checkpointDir = environment.checkpointDir().orElse(null);
        }
        ExperimentSpec read = ExperimentSpecFiles.read(file);
        ExperimentSpec.Builder builder = read.toBuilder();
        if (epochs != null) {
            builder.getTrainingBuilder().setEpochs(epochs);
        }
        if (limit != null) {
            builder.getDatasetBuilder().setLimit(limit);
        }
        if (testLimit != null) {
            builder.getDatasetBuilder().setTestLimit(testLimit);
        }
        if (dataParallelism != null) {
            builder.getTrainingBuilder().setDataParallelism(dataParallelism);
        }
        if (averagingFrequency != null) {
            builder.getTrainingBuilder().setAveragingFrequency(averagingFrequency);
        }
        if (validationFraction != null) {
            builder.getDatasetBuilder().setValidationFraction(validationFraction);
        }
        ExperimentSpec experiment = new ExperimentSpecValidator().validateAndNormalize(builder.build());
        if (seeds != null && !seeds.isEmpty()) {
            if (replicas > 1 || environment.worldSize() > 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--seeds runs stand-alone trainings one after another; it does not combine with --replicas or a gang");
            }
            for (long seed : seeds) {
                if (seed < 0) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--seeds: a seed must not be negative: got " + seed);
                }
            }
            if (seeds.stream().distinct().count() != seeds.size()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--seeds: each seed once, please: got " + seeds);
            }
        }

        int cores = Runtime.getRuntime().availableProcessors();
        int k = workers != null ? workers : engine == TrainOptions.Engine.single ? 1 : cores;
        int threads = threadsPerWorker != null ? threadsPerWorker : Math.max(1, cores / k);
        if (engine == TrainOptions.Engine.single && threadsPerWorker == null && workers != null) {
            // "--engine single --workers 2" means: the same cores as two workers, in one network
            threads = Math.max(1, k * Math.max(1, cores / k));
        }
        TrainOptions options = new TrainOptions(experiment, engine, master != null ? master : "local[" + k + "]", k, threads,
                Optional.ofNullable(checkpointDir));

        PrintWriter out = spec.commandLine().getOut();
        PrintWriter progress = output == OutputFormat.json ? spec.commandLine().getErr() : out;
        List<TrainingEvents> listeners = new ArrayList<>();
        listeners.add(new ConsoleEvents(progress));
        progress.println(environment.deviceLine());
        progress.flush();
        StopSignal stop = StopSignal.install(Duration.ofSeconds(graceSeconds), System.err);

        if (seeds != null && !seeds.isEmpty()) {
            return trainSeeds(experiment, options, environment, listeners, stop, progress);
        }

        LocalGang localGang = null;
        Path scratch = null;
        org.apache.spark.rpc.RpcEnv sparkMaster = null;
        if (replicas > 1 && environment.worldSize() == 1) {
            // a gang on this machine: rank 0 here, ranks 1..N-1 as child processes
            environment = environment.asGangLeader(replicas, "127.0.0.1:" + freePort());
        }
        TrainingResult result = null;
        try {
            if (environment.worldSize() > 1) {
                scratch = Files.createTempDirectory("tranche-gang-");
                SparkHome home = SparkHome.create(scratch);
                sparkMaster = Gang.startMaster(environment);
                if (replicas > 1) {
                    // a rank that ends takes its executor with it, and the driver would wait for it for ever: stop as a signal would
                    localGang = LocalGang.start(replicas, Gang.Address.parse(environment.masterAddress().orElseThrow()), home, environment, k,
                            scratch.resolve("logs"), why -> stop.requestWithin(Duration.ofSeconds(graceSeconds), 1, "error: " + why + "; stopping", System.err));
                    progress.println("started ranks 1.." + (replicas - 1) + " as local processes; their logs are in " + localGang.logs());
                    progress.flush();
                }
                long executorMemory = Math.max(512, experiment.getResources().getMemoryMib() * 3 / 4);
                options = Gang.driverOptions(options, environment, home, k, executorMemory);
            }
            result = train(experiment, options, environment, listeners, stop);
        }
        finally {
            if (localGang != null) {
                localGang.close();
            }
            if (sparkMaster != null) {
                sparkMaster.shutdown();
            }
            if (scratch != null) {
                removeScratch(scratch, localGang, result, progress);
            }
        }
        if (localGang != null && localGang.lost().isPresent()) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("error: " + localGang.lost().get() + (result.stopped() && checkpointDir != null
                    ? "; training checkpointed before it stopped: the same command resumes from there" : ""));
            err.flush();
            return 1;
        }

        if (output == OutputFormat.json) {
            out.println(new GsonBuilder().serializeSpecialFloatingPointValues().create().toJson(json(experiment, options, result)));
        }
        else {
            out.println(summary(experiment.getName(), result));
        }
        out.flush();
        return result.stopped() ? 143 : 0;
    }

    private static String summary(String name, TrainingResult result)
    {
        if (result.stopped()) {
            return String.format("%s: stopped early, checkpointed after %d of %d epochs; not tested (%.0f images/s)",
                    name, result.resumedFromEpoch() + result.epochResults().size(), result.epochs(), result.imagesPerSecond());
        }
        return String.format("%s: test accuracy %.4f, test loss %.4f (model of epoch %d%s), %.0f images/s over %d training images, %d epochs%s",
                name, result.testAccuracy(), result.testLoss(), result.modelEpoch(),
                Double.isNaN(result.validationAccuracy()) ? "" : String.format(", best validation accuracy %.4f", result.validationAccuracy()),
                result.imagesPerSecond(), result.trainImages(), result.epochs(), result.earlyStopped() ? ", stopped early on validation" : "");
    }

    /** {@code --seeds}: the same training once per seed, then each seed's and the mean and standard deviation of the test accuracy. */
    private int trainSeeds(ExperimentSpec experiment, TrainOptions options, WorkerEnvironment environment, List<TrainingEvents> listeners, StopSignal stop,
            PrintWriter progress)
    {
        PrintWriter out = spec.commandLine().getOut();
        List<Map<String, Object>> runs = new ArrayList<>();
        List<Double> accuracies = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (long seed : seeds) {
            ExperimentSpec.Builder seeded = experiment.toBuilder();
            seeded.getTrainingBuilder().setSeed(seed);
            ExperimentSpec run = seeded.build();
            TrainOptions seedOptions = new TrainOptions(run, options.engine(), options.master(), options.workers(), options.threadsPerWorker(),
                    options.checkpointDir().map(dir -> dir.resolve("seed-" + seed)), options.sparkConf(), options.expectedExecutors());
            progress.println("== seed " + seed);
            progress.flush();
            TrainingResult result = train(run, seedOptions, environment, listeners, stop);
            Map<String, Object> json = json(run, seedOptions, result);
            json.put("seed", seed);
            runs.add(json);
            lines.add("seed " + seed + ": " + summary(run.getName(), result));
            if (result.stopped()) {
                out.println(String.join(System.lineSeparator(), lines));
                out.flush();
                return 143;
            }
            accuracies.add(result.testAccuracy());
        }
        double mean = accuracies.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double std = standardDeviation(accuracies, mean);
        double min = accuracies.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        if (output == OutputFormat.json) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("name", experiment.getName());
            map.put("seeds", List.copyOf(seeds));
            map.put("test_accuracy_mean", mean);
            map.put("test_accuracy_std", std);
            map.put("test_accuracy_min", min);
            map.put("runs", runs);
            out.println(new GsonBuilder().serializeSpecialFloatingPointValues().create().toJson(map));
        }
        else {
            lines.forEach(out::println);
            out.printf("%s over %d seeds: test accuracy mean %.4f, standard deviation %.4f, lowest %.4f%n", experiment.getName(), accuracies.size(), mean, std, min);
        }
        out.flush();
        return 0;
    }

    /** The sample standard deviation (n - 1); 0 for one value. */
    static double standardDeviation(List<Double> values, double mean)
    {
        if (values.size() < 2) {
            return 0;
        }
        double sum = 0;
        for (double v : values) {
            sum += (v - mean) * (v - mean);
        }
        return Math.sqrt(sum / (values.size() - 1));
    }

    private TrainingResult train(ExperimentSpec experiment, TrainOptions options, WorkerEnvironment environment, List<TrainingEvents> listeners, StopSignal stop)
    {
        Optional<String> metricsTarget = Optional.ofNullable(metricsServer).or(environment::schedulerAddress);
        if (metricsTarget.isEmpty()) {
            return new Trainer(options, TrainingEvents.all(listeners), stop).run();
        }
        ManagedChannel channel = SchedulerChannel.open(metricsTarget.get(), environment);
        MetricsClient metrics = new MetricsClient(channel, MetricsClientConfig.defaults(
                environment.experimentId().orElse(experiment.getName()), environment.credential().orElse(""), environment.rank()),
                System.err, Clock.systemUTC());
        List<TrainingEvents> all = new ArrayList<>(listeners);
        all.add(metrics);
        try {
            return new Trainer(options, TrainingEvents.all(all), stop).run();
        }
        finally {
            metrics.close();
            channel.shutdownNow();
        }
    }

    /** Rank > 0 of a gang: a Spark Worker that joins rank 0's master; SPARK_HOME is laid out first if missing. */
    private int executorHost(WorkerEnvironment environment)
            throws Exception
    {
        int cores = workers != null ? workers : Runtime.getRuntime().availableProcessors();
        Path scratch = Files.createTempDirectory("tranche-replica-");
        // links to this class path and the Spark Worker's work directory: nothing anyone reads once the replica has ended
        Runtime.getRuntime().addShutdownHook(new Thread(() -> TempDirectories.deleteTree(scratch), "remove-scratch"));
        String sparkHome = System.getenv("SPARK_HOME");
        if (sparkHome == null || sparkHome.isEmpty()) {
            // a Spark Worker finds its executors' jars through $SPARK_HOME: start again with one
            SparkHome home = SparkHome.create(scratch);
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.tranche.cli.Tranche"));
            command.addAll(spec.commandLine().getParseResult().originalArgs());
            ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
            builder.environment().put("SPARK_HOME", home.home().toString());
            builder.environment().put("SPARK_SCALA_VERSION", "2.12");
            return builder.start().waitFor();
        }
        System.err.println(environment.deviceLine());
        return Gang.runExecutorHost(environment, cores, 4096, scratch.resolve("work"), System.err);
    }

    /**
     * A gang's scratch: the Spark home's links go in any case; the ranks' logs, which the user was
     * pointed to, stay when the training did not finish (a rank lost, stopped, or failed).
     */
    private static void removeScratch(Path scratch, LocalGang localGang, TrainingResult result, PrintWriter progress)
    {
        boolean finished = result != null && !result.stopped() && (localGang == null || localGang.lost().isEmpty());
        if (finished || localGang == null) {
            TempDirectories.deleteTree(scratch);
            return;
        }
        try (java.util.stream.Stream<Path> entries = Files.list(scratch)) {
            entries.filter(entry -> !entry.equals(localGang.logs())).forEach(TempDirectories::deleteTree);
        }
        catch (java.io.IOException e) {
            // the logs are what matters here; links left behind are harmless
        }
        progress.println("the ranks' logs are kept in " + localGang.logs());
        progress.flush();
    }

    private static int freePort()
            throws java.io.IOException
    {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static Map<String, Object> json(ExperimentSpec experiment, TrainOptions options, TrainingResult result)
    {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("name", experiment.getName());
        map.put("architecture", experiment.getModel().getArchitecture());
        map.put("dataset", experiment.getDataset().getKind());
        map.put("mode", result.mode());
        map.put("engine", options.engine().name());
        map.put("workers", options.workers());
        map.put("threads_per_worker", options.threadsPerWorker());
        map.put("batch_size", experiment.getTraining().getBatchSize());
        map.put("averaging_frequency", result.averagingFrequency());
        map.put("seed", experiment.getTraining().getSeed());
        map.put("epochs", result.epochs());
        map.put("resumed_from_epoch", result.resumedFromEpoch());
        map.put("train_images", result.trainImages());
        map.put("validation_images", result.validationImages());
        map.put("test_images", result.testImages());
        map.put("model_epoch", result.modelEpoch());
        map.put("validation_accuracy", result.validationAccuracy());
        map.put("early_stopped", result.earlyStopped());
        map.put("test_accuracy", result.testAccuracy());
        map.put("test_loss", result.testLoss());
        map.put("images_per_second", result.imagesPerSecond());
        map.put("training_seconds", result.trainingSeconds());
        map.put("stopped", result.stopped());
        List<Map<String, Object>> perEpoch = new ArrayList<>();
        for (EpochResult r : result.epochResults()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", r.epoch());
            e.put("train_loss", r.trainLoss());
            e.put("validation_loss", r.validationLoss());
            e.put("validation_accuracy", r.validationAccuracy());
            e.put("seconds", r.seconds());
            e.put("images_per_second", r.imagesPerSecond());
            perEpoch.add(e);
        }
        map.put("per_epoch", perEpoch);
        return map;
    }
}
