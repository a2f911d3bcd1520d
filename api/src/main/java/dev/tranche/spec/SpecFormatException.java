package dev.tranche.spec;

/** A spec file that cannot be read as YAML or does not have the shape of an ExperimentSpec; also any YAML file {@link YamlFiles} refuses. */
public final class SpecFormatException
        extends IllegalArgumentException
{
    public SpecFormatException(String message)
    {
        super(message);
    }

    public SpecFormatException(String message, Throwable cause)
    {
        super(message, cause);
    }
}
