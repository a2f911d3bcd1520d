package dev.tranche.scheduler.inventory;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Memory sizes as people write them on a command line: 24GiB, 512MiB, 1TiB, or a plain number of MiB. */
public final class Sizes
{
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(MiB|GiB|TiB|MB|GB|TB)?", Pattern.CASE_INSENSITIVE);

    private Sizes() {}

    public static long parseMib(String flag, String text)
    {
        Matcher matcher = SIZE.matcher(text.strip());
        if (!matcher.matches()) {
            throw new IllegalArgumentException(flag + " must be a size such as 24GiB, 512MiB or 1TiB: got \"" + text + "\"");
        }
        long amount;
        try {
            amount = Long.parseLong(matcher.group(1));
        }
        catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " is too large: got \"" + text + "\"");
        }
        String unit = matcher.group(2) == null ? "mib" : matcher.group(2).toLowerCase(Locale.ROOT);
        long factor = switch (unit) {
            case "gib", "gb" -> 1024;
            case "tib", "tb" -> 1024 * 1024;
            default -> 1;
        };
        if (amount > Long.MAX_VALUE / factor / 2) {
            throw new IllegalArgumentException(flag + " is too large: got \"" + text + "\"");
        }
        return amount * factor;
    }
}
