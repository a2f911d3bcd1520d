package dev.tranche.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

/**
 * A token's lifetime: a duration as {@link Durations} reads it ("30d", "12h", "1d12h"); "never" is
 * {@link Duration#ZERO}. Zero and more than ten years (what the scheduler accepts) are refused.
 */
final class LifetimeConverter
        implements ITypeConverter<Duration>
{
    static final Duration MAX = Duration.ofDays(3650);

    @Override
    public Duration convert(String value)
    {
        return parse(value);
    }

    static Duration parse(String value)
    {
        if (value.strip().equalsIgnoreCase("never")) {
            return Duration.ZERO;
        }
        Duration total;
        try {
            total = Durations.parse("a token's lifetime", value);
        }
        catch (IllegalArgumentException e) {
            throw new TypeConversionException(value.length() > 64 ? e.getMessage()
                    : "a token's lifetime must be a duration such as 30d, 12h, 90m or 1d12h (units ms, s, m, h, d, w), or never: got '" + value + "'");
        }
        if (total.isZero()) {
            throw new TypeConversionException("a token's lifetime must be more than 0 (leave --expires out, or say never, for a token that does not expire): got '" + value + "'");
        }
        if (total.compareTo(MAX) > 0) {
            throw new TypeConversionException("a token's lifetime is at most " + MAX.toDays() + " days: got '" + value + "'");
        }
        return total;
    }
}
