package dev.tranche.spec;

import static java.util.Objects.requireNonNull;

/**
 * One broken rule in an experiment spec: the field's path as written in YAML (for example
 * {@code resources.gpu.fraction}) and the rule with the offending value.
 */
public record Violation(String field, String message)
{
    public Violation
    {
        requireNonNull(field, "field is null");
        requireNonNull(message, "message is null");
    }

    @Override
    public String toString()
    {
        return field + " " + message;
    }
}
