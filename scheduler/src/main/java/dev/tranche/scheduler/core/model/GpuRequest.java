package dev.tranche.scheduler.core.model;

import java.util.Set;
import java.util.TreeSet;

import static java.util.Objects.requireNonNull;

/**
 * What one replica asks of GPUs. Exactly one of: nothing, a fraction of one GPU (milli-GPU), whole
 * GPUs on one node, or an amount of GPU memory on one GPU (turned into milli-GPU against the memory
 * of the GPU it lands on, rounded up). A fractional or memory request never spans GPUs.
 *
 * @param allowedModels GPU models the replica may use; empty means any model
 */
public record GpuRequest(Kind kind, int milli, int count, long memoryMib, Set<String> allowedModels)
{
    public static final int MILLI_PER_GPU = 1000;

    public enum Kind { NONE, FRACTION, WHOLE, MEMORY }

    private static final GpuRequest NONE = new GpuRequest(Kind.NONE, 0, 0, 0, Set.of());

    public GpuRequest
    {
        requireNonNull(kind, "kind is null");
        requireNonNull(allowedModels, "allowedModels is null");
        // sorted copy: equal requests hash equally and print the same way every time
        allowedModels = allowedModels.isEmpty() ? Set.of() : Set.copyOf(new TreeSet<>(allowedModels));
        // each message is built only when its check fails: requests are made for every submission and placement
        boolean valid = switch (kind) {
            case NONE -> milli == 0 && count == 0 && memoryMib == 0 && allowedModels.isEmpty();
            case FRACTION -> milli >= 1 && milli <= MILLI_PER_GPU && count == 1 && memoryMib == 0;
            case WHOLE -> count >= 1 && milli == MILLI_PER_GPU && memoryMib == 0;
            case MEMORY -> memoryMib >= 1 && count == 1 && milli == 0;
        };
        if (!valid) {
            throw new IllegalArgumentException(switch (kind) {
                case NONE -> "a request for no GPU carries no amounts or models";
                case FRACTION -> "a fractional GPU request needs milli in 1..1000, got " + milli;
                case WHOLE -> "a whole-GPU request needs count >= 1, got " + count;
                case MEMORY -> "a GPU memory request needs memoryMib >= 1, got " + memoryMib;
            });
        }
    }

    public static GpuRequest none()
    {
        return NONE;
    }

    public static GpuRequest fraction(int milli)
    {
        return new GpuRequest(Kind.FRACTION, milli, 1, 0, Set.of());
    }

    public static GpuRequest whole(int count)
    {
        return new GpuRequest(Kind.WHOLE, MILLI_PER_GPU, count, 0, Set.of());
    }

    public static GpuRequest memory(long memoryMib)
    {
        return new GpuRequest(Kind.MEMORY, 0, 1, memoryMib, Set.of());
    }

    public GpuRequest onModels(Set<String> models)
    {
        check(kind != Kind.NONE, "a request for no GPU cannot name GPU models");
        return new GpuRequest(kind, milli, count, memoryMib, models);
    }

    public boolean isNone()
    {
        return kind == Kind.NONE;
    }

    public boolean allows(String model)
    {
        return allowedModels.isEmpty() || allowedModels.contains(model);
    }

    /** Milli-GPU this request takes from one GPU with the given memory; more than 1000 means it cannot fit there. */
    public int milliOn(long gpuMemoryMib)
    {
        return switch (kind) {
            case NONE -> 0;
            case FRACTION, WHOLE -> milli;
            case MEMORY -> gpuMemoryMib <= 0 ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE, (memoryMib * MILLI_PER_GPU + gpuMemoryMib - 1) / gpuMemoryMib);
        };
    }

    /** Total milli-GPU for quota purposes; memory requests are estimated against the given GPU memory. */
    public long totalMilli(long referenceGpuMemoryMib)
    {
        return switch (kind) {
            case NONE -> 0;
            case FRACTION -> milli;
            case WHOLE -> (long) count * MILLI_PER_GPU;
            case MEMORY -> Math.min(MILLI_PER_GPU, milliOn(referenceGpuMemoryMib));
        };
    }

    @Override
    public String toString()
    {
        String base = switch (kind) {
            case NONE -> "no GPU";
            case FRACTION -> milli == MILLI_PER_GPU ? "1 GPU" : formatGpus(milli) + " GPU";
            case WHOLE -> count + (count == 1 ? " GPU" : " GPUs");
            case MEMORY -> memoryMib + " MiB of GPU memory";
        };
        return allowedModels.isEmpty() ? base : base + " (" + String.join("|", new TreeSet<>(allowedModels)) + ")";
    }

    /** 1500 milli reads "1.5", 8000 reads "8.0". */
    public static String formatGpus(long milli)
    {
        // digits by arithmetic, not String.format: a replay writes this into reasons millions of times,
        // and the same text whatever the JVM's locale
        long magnitude = Math.abs(milli);
        String sign = milli < 0 ? "-" : "";
        long whole = magnitude / MILLI_PER_GPU;
        long fraction = magnitude % MILLI_PER_GPU;
        if (fraction % 100 == 0) {
            return sign + whole + "." + fraction / 100;
        }
        String digits = Long.toString(MILLI_PER_GPU + fraction).substring(1);
        int end = digits.length();
        while (digits.charAt(end - 1) == '0') {
            end--;
        }
        return sign + whole + "." + digits.substring(0, end);
    }

    private static void check(boolean condition, String message)
    {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
