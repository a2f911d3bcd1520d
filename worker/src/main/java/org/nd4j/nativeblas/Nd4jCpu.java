package org.nd4j.nativeblas;

/**
 * Restores a class name DL4J 1.0.0-M2.1 still looks for. Its oneDNN layer helpers
 * (BaseMKLDNNHelper.mklDnnEnabled) ask {@code org.nd4j.nativeblas.Nd4jCpu$Environment.isUseMKLDNN()},
 * but the bindings moved to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu}; without this
 * class the lookup fails and every convolution falls back to the slow im2col path (5x slower LeNet,
 * docs/benchmarks-worker.md). Remove it with the upgrade that fixes the lookup.
 */
public final class Nd4jCpu
{
    private Nd4jCpu() {}

    public static final class Environment
    {
        private static final Environment INSTANCE = new Environment();

        private Environment() {}

        public static Environment getInstance()
        {
            return INSTANCE;
        }

        public boolean isUseMKLDNN()
        {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
        }
    }
}
