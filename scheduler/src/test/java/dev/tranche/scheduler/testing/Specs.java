package dev.tranche.scheduler.testing;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.spec.ExperimentSpecFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The documented example spec (docs/examples/fashion-mnist-lenet.yaml, packed into the build). */
public final class Specs
{
    private Specs() {}

    public static ExperimentSpec example()
    {
        try (InputStream in = Specs.class.getResourceAsStream("/examples/fashion-mnist-lenet.yaml")) {
            if (in == null) {
                throw new IllegalStateException("docs/examples/fashion-mnist-lenet.yaml is not on the test class path");
            }
            return ExperimentSpecFiles.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "fashion-mnist-lenet.yaml");
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ExperimentSpec named(String name, String project)
    {
        return example().toBuilder().setName(name).setProject(project).build();
    }
}
