/**
 * Scheduling outcomes over time: completion times, waits, GPU allocation per project against its
 * deserved share, and Jain's fairness index. One computation serves {@code tranche simulate} and the
 * live Usage page, so a replayed and a real cluster are measured alike.
 */
package dev.tranche.scheduler.outcome;
