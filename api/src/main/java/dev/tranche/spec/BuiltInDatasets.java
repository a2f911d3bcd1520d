package dev.tranche.spec;

import java.util.List;

/** Where the data sets a spec names by kind alone live on a worker: Debian's dataset packages. */
public final class BuiltInDatasets
{
    public static final String FASHION_MNIST = "/usr/share/datasets/fashion-mnist";
    public static final String MNIST = "/usr/share/datasets/mnist";
    public static final String CIFAR10 = "/usr/share/datasets/cifar-10";

    private BuiltInDatasets() {}

    public static List<String> folders()
    {
        return List.of(FASHION_MNIST, MNIST, CIFAR10);
    }
}
