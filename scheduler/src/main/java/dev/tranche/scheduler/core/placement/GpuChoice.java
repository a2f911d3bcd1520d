package dev.tranche.scheduler.core.placement;

import java.util.Arrays;

/**
 * Which GPUs of a node shape one replica would take, by canonical position in the {@link NodeShape},
 * and how many milli-GPU on each. Immutable.
 */
public final class GpuChoice
{
    static final GpuChoice NONE = new GpuChoice(new int[0], new int[0]);

    private final int[] positions;
    private final int[] milli;

    GpuChoice(int[] positions, int[] milli)
    {
        if (positions.length != milli.length) {
            throw new IllegalArgumentException("positions and milli differ in length");
        }
        this.positions = positions.clone();
        this.milli = milli.clone();
    }

    public int count()
    {
        return positions.length;
    }

    public int position(int i)
    {
        return positions[i];
    }

    public int milli(int i)
    {
        return milli[i];
    }

    public long totalMilli()
    {
        long total = 0;
        for (int m : milli) {
            total += m;
        }
        return total;
    }

    /** The milli-GPU this choice takes from canonical position {@code position}, 0 if none. */
    public int milliAt(int position)
    {
        for (int i = 0; i < positions.length; i++) {
            if (positions[i] == position) {
                return milli[i];
            }
        }
        return 0;
    }

    @Override
    public String toString()
    {
        return "GpuChoice" + Arrays.toString(positions) + Arrays.toString(milli);
    }
}
