package dev.tranche.scheduler.server;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.spec.ExperimentSpecFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * docs/examples/fashion-mnist-lenet.yaml, which the build packs into the scheduler jar so the demo
 * and the benchmarks submit exactly what the documentation shows.
 */
public final class ExampleSpec
{
    private static final String RESOURCE = "/examples/fashion-mnist-lenet.yaml";

    private ExampleSpec() {}

    public static ExperimentSpec fashionMnistLenet()
    {
        try (InputStream in = ExampleSpec.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the example spec " + RESOURCE + " is missing from this build");
            }
            return ExperimentSpecFiles.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "fashion-mnist-lenet.yaml");
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
