package dev.tranche.spec;

import java.math.BigDecimal;

/** Numbers as people write them in messages and tables: 0.5, 2, 0.0005 (never 5.0E-4 or 2.0). */
public final class Numbers
{
    private Numbers() {}

    public static String plain(double value)
    {
        if (!Double.isFinite(value)) {
            return Double.toString(value);
        }
        if (value == 0) {
            return "0";
        }
        return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }
}
