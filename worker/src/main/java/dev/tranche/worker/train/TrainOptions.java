package dev.tranche.worker.train;

import dev.tranche.proto.v1.ExperimentSpec;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How to run one experiment. {@code spec} is normalized (defaults filled in); it also says how often
 * parameters are averaged ({@code training.averaging_frequency}).
 *
 * @param engine {@code spark}: data-parallel on Spark; {@code single}: one DL4J network in this
 *         process, no Spark (the baseline the benchmark compares against)
 * @param master the Spark master, e.g. {@code local[2]} or {@code spark://host:7077}
 * @param workers Spark workers (tasks training at once)
 * @param threadsPerWorker native (OpenMP) threads each worker's operations use
 * @param checkpointDir where checkpoints go; empty for none
 * @param sparkConf extra Spark settings (a standalone gang's executor class path and JVM flags)
 * @param expectedExecutors executors to wait for before training (0 in local mode)
 */
public record TrainOptions(
        ExperimentSpec spec,
        Engine engine,
        String master,
        int workers,
        int threadsPerWorker,
        Optional<Path> checkpointDir,
        Map<String, String> sparkConf,
        int expectedExecutors)
{
    public enum Engine
    {
        spark,
        single
    }

    /** Local mode: nothing extra. */
    public TrainOptions(ExperimentSpec spec, Engine engine, String master, int workers, int threadsPerWorker, Optional<Path> checkpointDir)
    {
        this(spec, engine, master, workers, threadsPerWorker, checkpointDir, Map.of(), 0);
    }

    public TrainOptions
    {
        requireNonNull(spec, "spec is null");
        requireNonNull(engine, "engine is null");
        requireNonNull(master, "master is null");
        requireNonNull(checkpointDir, "checkpointDir is null");
        sparkConf = Map.copyOf(sparkConf);
        if (workers < 1 || threadsPerWorker < 1) {
            throw new IllegalArgumentException("workers and threads per worker must be at least 1");
        }
    }
}
