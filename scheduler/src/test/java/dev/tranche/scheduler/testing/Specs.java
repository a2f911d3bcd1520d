package dev.tranche.scheduler.testing;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.scheduler.server.ExampleSpec;

/** Specs for tests, built from the documented example so tests submit what users are shown. */
public final class Specs
{
    private Specs() {}

    public static ExperimentSpec example()
    {
        return ExampleSpec.fashionMnistLenet();
    }

    public static ExperimentSpec named(String name, String project)
    {
        return example().toBuilder().setName(name).setProject(project).build();
    }
}
