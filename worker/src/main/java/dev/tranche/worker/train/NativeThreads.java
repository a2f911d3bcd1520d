package dev.tranche.worker.train;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Bounds the OpenMP team of the thread that trains. ND4J's {@code Environment.setMaxThreads} does not
 * bound the team its native operations start, so without this every training thread spreads over
 * every core: two single-threaded runs side by side, or Spark's task threads in one JVM, oversubscribe
 * the cores (measured in docs/benchmarks-worker.md). OpenMP's thread count is a setting of each
 * thread, so it is set in the driver's thread and, as a training hook, in each Spark task thread
 * before its every step (one cheap native call).
 */
final class NativeThreads
        implements TrainingHook
{
    private final int threads;

    NativeThreads(int threads)
    {
        if (threads < 1) {
            throw new IllegalArgumentException("native threads must be at least 1: got " + threads);
        }
        this.threads = threads;
    }

    /** Bounds the calling thread's OpenMP team. */
    static void confine(int threads)
    {
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model)
    {
        confine(threads);
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {}

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model)
    {
        confine(threads);
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {}
}
