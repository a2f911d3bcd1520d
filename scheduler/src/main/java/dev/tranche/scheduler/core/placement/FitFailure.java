package dev.tranche.scheduler.core.placement;

/** Why one node cannot take one replica: the first fit predicate that failed, in this order. */
public enum FitFailure
{
    UNSCHEDULABLE("is not schedulable", "are not schedulable"),
    RESERVED("is held for a starving gang", "are held for a starving gang"),
    INSUFFICIENT_CPU("lacks CPU", "lack CPU"),
    INSUFFICIENT_MEMORY("lacks memory", "lack memory"),
    TOO_FEW_GPUS("has too few GPUs", "have too few GPUs"),
    NO_ALLOWED_GPU("has no GPU of an allowed model", "have no GPU of an allowed model"),
    GPU_MEMORY_TOO_SMALL("has no GPU with enough memory", "have no GPU with enough memory"),
    INSUFFICIENT_GPU("lacks free GPU", "lack free GPU");

    private final String singular;
    private final String plural;

    FitFailure(String singular, String plural)
    {
        this.singular = singular;
        this.plural = plural;
    }

    /** "3 nodes lack CPU", "1 node lacks CPU". */
    public String describe(int nodes)
    {
        return nodes + (nodes == 1 ? " node " + singular : " nodes " + plural);
    }
}
