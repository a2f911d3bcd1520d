package dev.tranche.scheduler.inventory;

import dev.tranche.scheduler.core.model.Node;

import java.util.List;

/** Where the scheduler's nodes and GPUs come from when no execution backend reports them. */
public interface Inventory
{
    List<Node> nodes();
}
