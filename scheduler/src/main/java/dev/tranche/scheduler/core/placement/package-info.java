/**
 * Where one replica goes: the mutable {@link dev.tranche.scheduler.core.placement.ClusterState}
 * indexed by {@link dev.tranche.scheduler.core.placement.NodeShape}, the
 * {@link dev.tranche.scheduler.core.placement.Placer} that runs the fit predicates and asks a
 * {@link dev.tranche.scheduler.core.placement.PlacementPolicy} to score the candidates, and the
 * policies themselves (FGD, best-fit, spread).
 */
package dev.tranche.scheduler.core.placement;
