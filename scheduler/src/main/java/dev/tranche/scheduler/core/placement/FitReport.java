package dev.tranche.scheduler.core.placement;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/** How many nodes failed each fit predicate for one replica, summarised like "12 nodes lack free GPU, 3 lack CPU". */
public record FitReport(Map<FitFailure, Integer> nodesByFailure, int fittingNodes)
{
    public FitReport
    {
        nodesByFailure = Map.copyOf(new EnumMap<>(requireNonNull(nodesByFailure, "nodesByFailure is null")));
    }

    public String summary()
    {
        List<String> parts = new ArrayList<>();
        boolean first = true;
        for (FitFailure failure : FitFailure.values()) {
            Integer count = nodesByFailure.get(failure);
            if (count != null && count > 0) {
                String text = failure.describe(count);
                // "12 nodes lack free GPU, 3 lack CPU": only the first part names the nodes
                parts.add(first ? text : text.replaceFirst(" nodes? ", " "));
                first = false;
            }
        }
        if (parts.isEmpty()) {
            return "the cluster has no nodes";
        }
        return String.join(", ", parts);
    }
}
