package dev.tranche.scheduler.experiment;

import java.util.Locale;

/**
 * The named priority classes a user picks from. The numbers leave gaps so that classes can be added
 * between them later without renumbering stored work.
 */
public enum PriorityClass
{
    LOW(25), NORMAL(50), HIGH(75), CRITICAL(100);

    private final int value;

    PriorityClass(int value)
    {
        this.value = value;
    }

    /** What the scheduling core compares: higher goes first and may preempt lower. */
    public int value()
    {
        return value;
    }

    /** The name users write: {@code low}, {@code normal}, {@code high}, {@code critical}. */
    public String label()
    {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException naming the known classes when {@code label} is none of them */
    public static PriorityClass fromLabel(String label)
    {
        for (PriorityClass priority : values()) {
            if (priority.label().equals(label)) {
                return priority;
            }
        }
        throw new IllegalArgumentException("unknown priority class \"" + label + "\"; known: low, normal, high, critical");
    }
}
