/**
 * Immutable inputs of a scheduling cycle: nodes and GPUs, quotas, running and pending experiments,
 * and the expected workload. Every record checks its arguments in its constructor.
 */
package dev.tranche.scheduler.core.model;
