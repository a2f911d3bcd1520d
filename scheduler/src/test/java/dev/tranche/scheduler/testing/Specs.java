package dev.tranche.scheduler.testing;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.scheduler.server.ExampleSpec;
import dev.tranche.scheduler.wire.ExperimentSpecs;

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

    /** The example as the domain holds it once accepted: validated, defaults filled in. */
    public static dev.tranche.scheduler.experiment.ExperimentSpec accepted(String name, String project)
    {
        return ExperimentSpecs.fromRequest(named(name, project));
    }

    public static dev.tranche.scheduler.experiment.ExperimentSpec accepted(ExperimentSpec spec)
    {
        return ExperimentSpecs.fromRequest(spec);
    }
}
