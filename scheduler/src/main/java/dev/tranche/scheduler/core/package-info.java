/**
 * The scheduling core: {@link dev.tranche.scheduler.core.SchedulingCycle} turns a
 * {@link dev.tranche.scheduler.core.model.ClusterSnapshot} into
 * {@link dev.tranche.scheduler.core.Decisions} through the allocate, reclaim and preempt actions.
 * Pure: JDK only, no I/O, no clock, no threads; randomness only from the seed in
 * {@link dev.tranche.scheduler.core.SchedulingOptions}. Nothing here imports the service, the store
 * or the backends; adapters translate at the edges. See docs/scheduling-core.md.
 */
package dev.tranche.scheduler.core;
