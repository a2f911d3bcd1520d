/**
 * Usage over time: what each project held against its deserved share, what waited, and how long
 * work waited to start. Sampled by the server ({@link dev.tranche.scheduler.usage.UsageRecorder}),
 * kept by a {@link dev.tranche.scheduler.usage.UsageStore}, read by the Usage page and GetUsage.
 */
package dev.tranche.scheduler.usage;
