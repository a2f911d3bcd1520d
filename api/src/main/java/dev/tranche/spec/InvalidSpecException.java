package dev.tranche.spec;

import java.util.List;

import static java.util.Objects.requireNonNull;

/** A spec that breaks one or more rules; the message lists every violation, field first. */
public final class InvalidSpecException
        extends IllegalArgumentException
{
    private final List<Violation> violations;

    public InvalidSpecException(List<Violation> violations)
    {
        super(describe(violations));
        this.violations = List.copyOf(requireNonNull(violations, "violations is null"));
        if (violations.isEmpty()) {
            throw new IllegalArgumentException("an invalid spec has at least one violation");
        }
    }

    public List<Violation> violations()
    {
        return violations;
    }

    private static String describe(List<Violation> violations)
    {
        StringBuilder text = new StringBuilder();
        for (Violation violation : violations) {
            if (!text.isEmpty()) {
                text.append("; ");
            }
            text.append(violation);
        }
        return text.toString();
    }
}
