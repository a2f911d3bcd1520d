package dev.tranche.scheduler.core.placement;

import java.util.List;
import java.util.Locale;

/** The placement policies by name, as a configuration or a benchmark asks for them. */
public final class PlacementPolicies
{
    public static final String DEFAULT = FgdPolicy.NAME;

    private PlacementPolicies() {}

    public static List<String> names()
    {
        return List.of(FgdPolicy.NAME, ClassicFgdPolicy.NAME, BestFitPolicy.NAME, SpreadPolicy.NAME,
                RandomPolicy.NAME, DotProductPolicy.NAME, GpuClusteringPolicy.NAME, GpuPackingPolicy.NAME);
    }

    public static PlacementPolicy byName(String name)
    {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case FgdPolicy.NAME -> new FgdPolicy();
            case ClassicFgdPolicy.NAME -> new ClassicFgdPolicy();
            case RandomPolicy.NAME -> new RandomPolicy();
            case DotProductPolicy.NAME, "dotprod" -> new DotProductPolicy();
            case GpuClusteringPolicy.NAME -> new GpuClusteringPolicy();
            case GpuPackingPolicy.NAME -> new GpuPackingPolicy();
            case BestFitPolicy.NAME, "bestfit" -> new BestFitPolicy();
            case SpreadPolicy.NAME -> new SpreadPolicy();
            default -> throw new IllegalArgumentException("unknown placement policy '" + name + "'; known: " + String.join(", ", names()));
        };
    }
}
