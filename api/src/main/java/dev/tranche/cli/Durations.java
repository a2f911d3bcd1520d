package dev.tranche.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How every command-line duration is written: a whole number and a unit (ms, s, m, h, d, w), or a
 * sum such as {@code 1d12h}. One parser for every flag, so {@code --expires} and
 * {@code --cycle-interval} accept the same spellings.
 */
public final class Durations
{
    private static final Pattern PART = Pattern.compile("(\\d{1,9})(ms|s|m|h|d|w)");
    // a few parts at most (1w2d3h4m5s6ms is 13): longer is a mistake or an attack, and is refused
    // before any matching (a regular expression over a long sum recurses per part)
    private static final int MAX_LENGTH = 64;

    private Durations() {}

    /**
     * @param what names the value in the error, such as {@code --cycle-interval}
     * @throws IllegalArgumentException naming {@code what}, with examples, when {@code value} is not a duration
     */
    public static Duration parse(String what, String value)
    {
        String text = value.strip().toLowerCase(Locale.ROOT);
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException(what + " must be a duration of at most " + MAX_LENGTH + " characters, such as 12h or 1d12h: got "
                    + text.length() + " characters");
        }
        Duration total = Duration.ZERO;
        Matcher part = PART.matcher(text);
        int at = 0;
        while (at < text.length() && part.region(at, text.length()).lookingAt()) {
            long amount = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                case "d" -> Duration.ofDays(amount);
                case "w" -> Duration.ofDays(7 * amount);
                default -> throw new IllegalStateException(part.group(2));
            });
            at = part.end();
        }
        if (text.isEmpty() || at < text.length()) {
            throw new IllegalArgumentException(what + " must be a duration such as 200ms, 45s, 5m, 12h, 30d or 1d12h (units ms, s, m, h, d, w): got '" + value + "'");
        }
        return total;
    }

    /** A duration as the flags read it, largest units first: "10m", "1h30m", "1s500ms", "0s". */
    public static String format(Duration duration)
    {
        if (duration.isNegative()) {
            return "-" + format(duration.negated());
        }
        long millis = duration.toMillis();
        StringBuilder text = new StringBuilder();
        long[] sizes = {86_400_000L, 3_600_000L, 60_000L, 1000L, 1L};
        String[] units = {"d", "h", "m", "s", "ms"};
        for (int i = 0; i < sizes.length; i++) {
            if (millis >= sizes[i]) {
                text.append(millis / sizes[i]).append(units[i]);
                millis %= sizes[i];
            }
        }
        return text.isEmpty() ? "0s" : text.toString();
    }
}
