/**
 * {@code tranche simulate}: replays a job trace in virtual time through the production
 * {@link dev.tranche.scheduler.core.SchedulingCycle} on a simulated inventory, with no database, and
 * measures the outcomes (waits, completion times, fairness) with {@link dev.tranche.scheduler.outcome}.
 */
package dev.tranche.scheduler.simulation;
