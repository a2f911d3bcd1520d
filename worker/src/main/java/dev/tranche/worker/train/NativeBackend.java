package dev.tranche.worker.train;

import java.util.List;

/**
 * Switches on DL4J's oneDNN layer helpers (convolution, pooling, batch norm). DL4J 1.0.0-M2.1 turns
 * them off unless a system property says otherwise; with them LeNet trains about 5x faster on CPU
 * (docs/benchmarks-worker.md). Every JVM that builds layers needs it: this one, and Spark executors
 * in other processes through {@link #executorJvmFlags()}.
 */
public final class NativeBackend
{
    static final String HELPERS_DISABLED = "org.eclipse.deeplearning4j.helpers.disable";

    private NativeBackend() {}

    /** Before the first layer is built; an explicit -D setting wins (false/true to compare). */
    public static void enableLayerHelpers()
    {
        if (System.getProperty(HELPERS_DISABLED) == null) {
            System.setProperty(HELPERS_DISABLED, "false");
        }
    }

    public static List<String> executorJvmFlags()
    {
        return List.of("-D" + HELPERS_DISABLED + "=" + System.getProperty(HELPERS_DISABLED, "false"));
    }
}
