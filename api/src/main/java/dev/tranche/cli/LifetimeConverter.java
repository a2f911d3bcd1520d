package dev.tranche.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A token's lifetime: "30d", "12h", "90m", "45s", "2w", or a sum such as "1d12h"; "never" is
 * {@link Duration#ZERO}. Zero and more than ten years (what the scheduler accepts) are refused.
 */
final class LifetimeConverter
        implements ITypeConverter<Duration>
{
    static final Duration MAX = Duration.ofDays(3650);
    private static final Pattern WHOLE = Pattern.compile("(?:\\d{1,9}[smhdw])+");
    private static final Pattern PART = Pattern.compile("(\\d{1,9})([smhdw])");

    @Override
    public Duration convert(String value)
    {
        return parse(value);
    }

    static Duration parse(String value)
    {
        String text = value.strip().toLowerCase(Locale.ROOT);
        if (text.equals("never")) {
            return Duration.ZERO;
        }
        if (!WHOLE.matcher(text).matches()) {
            throw new TypeConversionException("expected a duration such as 30d, 12h, 90m or 1d12h (units s, m, h, d, w), or never: got '" + value + "'");
        }
        Duration total = Duration.ZERO;
        Matcher part = PART.matcher(text);
        while (part.find()) {
            long amount = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                case "d" -> Duration.ofDays(amount);
                case "w" -> Duration.ofDays(7 * amount);
                default -> throw new IllegalStateException(part.group(2));
            });
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
