package dev.tranche.scheduler.core.placement;

/** Why one node cannot take one replica: the first fit predicate that failed, in this order. */
public enum FitFailure
{
    UNSCHEDULABLE("is not schedulable", "are not schedulable"),
    INSUFFICIENT_CPU("lacks CPU", "lack CPU"),
    INSUFFICIENT_MEMORY("lacks memory", "lack memory"),
    NO_ALLOWED_GPU("has no allowed GPU", "have no allowed GPU"),
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
